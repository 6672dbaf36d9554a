// VSchemas the gate's unit tests plan against: the tutorial's commerce + customer keyspaces and a
// sysbench keyspace sharded by id.
import { buildClusterVSchema, parseKeyspaceVSchema, type ClusterVSchema } from '../../../src/vschema/index.js';

export const COMMERCE_VSCHEMA = {
  tables: {
    product: {},
    customer_seq: { type: 'sequence' },
    order_seq: { type: 'sequence' },
  },
};

export const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: {
      column_vindexes: [{ column: 'customer_id', name: 'hash' }],
      auto_increment: { column: 'customer_id', sequence: 'customer_seq' },
    },
    corder: {
      column_vindexes: [{ column: 'customer_id', name: 'hash' }],
      auto_increment: { column: 'order_id', sequence: 'order_seq' },
    },
  },
};

export const SBTEST_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: Object.fromEntries([1, 2, 3, 4].map((i) => [`sbtest${i}`, { column_vindexes: [{ column: 'id', name: 'hash' }] }])),
};

export function tutorialVSchema(): ClusterVSchema {
  return buildClusterVSchema({
    keyspaces: {
      commerce: parseKeyspaceVSchema('commerce', COMMERCE_VSCHEMA),
      customer: parseKeyspaceVSchema('customer', CUSTOMER_VSCHEMA),
      sbtest: parseKeyspaceVSchema('sbtest', SBTEST_VSCHEMA),
    },
  });
}
