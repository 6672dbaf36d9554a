// Loaded into a benchmark's child process (NODE_OPTIONS=--import=<this file>; Node refuses
// --cpu-prof there) so the bench can profile a phase of it: the first SIGUSR2 starts V8's CPU
// profiler, the next writes $BENCH_CPU_PROFILE/<pid>-<n>.cpuprofile and stops it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.BENCH_CPU_PROFILE;
if (dir) {
  const session = new Session();
  let running = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, r) => {
      if (!err) writeFileSync(`${dir}/${process.pid}-${++n}.cpuprofile`, JSON.stringify(r.profile));
      session.disconnect();
    });
  });
}
