import { describe, expect, it } from 'vitest';
import { FairScheduler } from '../../infra/gateway/fair-scheduler.js';

const flow = () => ({
  paused: 0,
  resumed: 0,
  pause() {
    this.paused++;
  },
  resume() {
    this.resumed++;
  },
});
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Class: FairScheduler', () => {
  it('when requests of several connections arrive in one turn, none starts before the turn ends, and then they start together', async () => {
    const scheduler = new FairScheduler({ maxInService: 10 });
    const started: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const lane = scheduler.lane({ name }, flow);
      scheduler.enqueue(lane, async () => {
        started.push(name);
      });
    }
    expect(started).toEqual([]);
    await turn();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('when one connection has many requests queued, each other connection is served between two of them (round robin), one request per connection at a time', async () => {
    const scheduler = new FairScheduler({ maxInService: 10 });
    const order: string[] = [];
    const flood = scheduler.lane({ name: 'flood' }, flow);
    const other = scheduler.lane({ name: 'other' }, flow);
    for (let i = 0; i < 3; i++) scheduler.enqueue(flood, async () => void order.push(`flood${i}`));
    scheduler.enqueue(other, async () => void order.push('other0'));
    scheduler.enqueue(other, async () => void order.push('other1'));
    for (let i = 0; i < 10; i++) await turn();
    expect(order).toEqual(['flood0', 'other0', 'flood1', 'other1', 'flood2']);
  });

  it('when a request’s work throws instead of rejecting, its turn ends as a failure would, the process does not crash, and the connection’s next request runs', async () => {
    const scheduler = new FairScheduler({ maxInService: 1 });
    const lane = scheduler.lane({ name: 'a' }, flow);
    const ran: string[] = [];
    scheduler.enqueue(lane, () => {
      throw new Error('thrown, not rejected');
    });
    scheduler.enqueue(lane, async () => void ran.push('next'));
    for (let i = 0; i < 5; i++) await turn();
    expect(ran).toEqual(['next']);
  });

  it('when a connection queues PAUSE_AT requests its socket is paused, and resumed once its queue drains to RESUME_AT', async () => {
    const scheduler = new FairScheduler({ maxInService: 1 });
    const socket = flow();
    const lane = scheduler.lane({ name: 'a' }, socket);
    for (let i = 0; i < 40; i++) scheduler.enqueue(lane, async () => {});
    expect(socket.paused).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) await turn();
    expect(socket.resumed).toBeGreaterThan(0);
  });

  it('when a connection sends several requests, its lane and flow control are made once, at its first', () => {
    const scheduler = new FairScheduler({ maxInService: 1 });
    const connection = { name: 'a' };
    let made = 0;
    const flowOf = () => {
      made++;
      return flow();
    };
    const first = scheduler.lane(connection, flowOf);
    expect(scheduler.lane(connection, flowOf)).toBe(first);
    expect(made).toBe(1);
  });
});
