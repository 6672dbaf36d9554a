// The in-process TabletManagerClient, for combined mode (`tessera up`, tests): ctld and the tablets
// share a process, so a call runs on the TabletManager object itself, through the same method table
// as the RPC server (tablet-manager-methods.ts): requests are checked and errors worded as over the
// network, and responses are copied as the wire would copy them.
import { TesseraError, ER } from '../mysql/errors.js';
import type { TopoServer } from '../topo/index.js';
import type { TabletManager } from './tablet-manager.js';
import {
  TABLET_MANAGER_CLIENT_DEFAULTS,
  TabletManagerClientBase,
  tmWireName,
  type TabletManagerClient,
  type TabletRef,
  type TmCallOptions,
  type TmMethod,
  type TmRequest,
  type TmResponse,
} from './tablet-manager-client.js';
import { defaultDeadlineMs, refAlias, refRecord, runTmMethod, tabletCallError, withDeadline } from './tablet-manager-methods.js';

/** The managers running in this process, by alias text (`zone1-0000000100`); undefined when not running. */
export type TabletManagerLookup = (alias: string) => TabletManager | undefined;

export class LocalTabletManagerClient extends TabletManagerClientBase {
  private readonly opts: typeof TABLET_MANAGER_CLIENT_DEFAULTS;
  private closed = false;

  /**
   * `remote`: where calls to tablets not running in this process go (a combined cluster whose
   * user started more tablets as their own processes, as the tutorial's step 201 does). Without
   * it such a tablet is UNAVAILABLE. Owned by this client: closed with it.
   */
  constructor(
    private readonly topo: TopoServer,
    private readonly lookup: TabletManagerLookup,
    opts: Partial<typeof TABLET_MANAGER_CLIENT_DEFAULTS> = {},
    private readonly remote?: TabletManagerClient,
  ) {
    super();
    this.opts = { ...TABLET_MANAGER_CLIENT_DEFAULTS, ...opts };
  }

  protected async invoke<M extends TmMethod>(method: M, tablet: TabletRef, req: TmRequest<M>, opts: TmCallOptions = {}): Promise<TmResponse<M>> {
    if (this.closed) throw new TesseraError({ errno: 2013, sqlState: 'HY000' }, 'tablet manager client is closed');
    const alias = refAlias(tablet);
    if (this.remote && !this.lookup(alias)) {
      const call = this.remote[method] as (t: TabletRef, r: TmRequest<M>, o?: TmCallOptions) => Promise<TmResponse<M>>;
      return call.call(this.remote, tablet, req, opts);
    }
    const what = `tablet ${alias}: ${tmWireName(method)}`;
    return withDeadline(what, opts.timeoutMs || defaultDeadlineMs(method, req, this.opts.callTimeoutMs), opts.signal, async (signal) => {
      const tm = this.lookup(alias);
      if (!tm) {
        // Unknown to the topology: its NO_NODE error. Known but not here: down, as over the network.
        await refRecord(this.topo, tablet);
        throw new TesseraError(ER.CONN_ERROR, `tablet ${alias} is not running in this process (stopped, or started elsewhere)`, { kind: 'UNAVAILABLE' });
      }
      let out: TmResponse<M>;
      try {
        out = await runTmMethod(tm, method, req, signal);
      } catch (err) {
        throw tabletCallError(alias, err);
      }
      // The copy the wire makes: the caller owns the result, and sees what a network caller sees.
      return out === undefined ? out : (JSON.parse(JSON.stringify(out)) as TmResponse<M>);
    });
  }

  close(): void {
    this.closed = true;
    this.remote?.close();
  }
}
