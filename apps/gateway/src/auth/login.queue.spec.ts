import { LoginQueue, LoginQueueFullError } from './login.queue';

/** A task that finishes when told. */
function gate<T>(value: T) {
  let open!: () => void;
  const started = { value: false };
  const task = () => {
    started.value = true;
    return new Promise<T>((resolve) => (open = () => resolve(value)));
  };
  return { task, started, open: () => open() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LoginQueue (issue 8 finding 6: a bound on pending authentications)', () => {
  it('runs at most maxRunning at once, queues maxWaiting more in order, refuses the rest at once', async () => {
    const q = new LoginQueue(2, 2);
    const g = Array.from({ length: 5 }, (_, i) => gate(i));
    const results = g.map((x) => q.run(x.task));
    const settled: Array<number | string> = [];
    results.forEach((p) => p.then((v) => settled.push(v), (e: Error) => settled.push(e.name)));
    await tick();
    expect(g.map((x) => x.started.value)).toEqual([true, true, false, false, false]);
    expect([q.running, q.queued, q.refused]).toEqual([2, 2, 1]);
    await expect(results[4]).rejects.toBeInstanceOf(LoginQueueFullError);
    g[1].open();
    await tick();
    expect(g[2].started.value).toBe(true);
    expect(g[3].started.value).toBe(false);
    g[0].open();
    g[2].open();
    await tick();
    g[3].open();
    await tick();
    expect(settled).toEqual(['LoginQueueFullError', 1, 0, 2, 3]);
    expect([q.running, q.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a task that fails or throws', async () => {
    const q = new LoginQueue(1, 0);
    await expect(q.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    await expect(q.run(() => { throw new Error('sync'); })).rejects.toThrow('sync');
    await expect(q.run(() => Promise.resolve(7))).resolves.toBe(7);
    expect(q.running).toBe(0);
  });
});
