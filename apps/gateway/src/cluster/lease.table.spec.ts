import { LeaseMessage } from './cluster.messages';
import { LeaseTable } from './lease.table';

const m = (op: LeaseMessage['op'], owner: string, epoch: number, extra: Partial<LeaseMessage> = {}): LeaseMessage => ({ op, park: 'p', owner, epoch, sentAt: 1000 * epoch, ...extra });
const state = (t: LeaseTable) => {
  const l = t.get('p');
  return l ? `${l.owner ?? 'free'}@${l.epoch}` : 'none';
};

describe('LeaseTable: compare-and-set on the epoch, in broker order', () => {
  it.each<[string, LeaseMessage[], string]>([
    ['the first message seen is the state (the retained one on subscribe)', [m('renew', 'a', 4)], 'a@4'],
    ['a claim of the next epoch wins', [m('release', 'a', 4), m('claim', 'b', 5)], 'b@5'],
    ['of two claims of one epoch, the first in broker order wins', [m('release', 'a', 4), m('claim', 'b', 5), m('claim', 'c', 5)], 'b@5'],
    ['a claim that skips an epoch is ignored', [m('renew', 'a', 4), m('claim', 'b', 6)], 'a@4'],
    ['a takeover of a live holder by claim: the old holder has lost it', [m('renew', 'a', 4), m('claim', 'b', 5), m('renew', 'a', 4)], 'b@5'],
    ['a renewal of a newer epoch catches a late subscriber up (it saw a losing claim first)', [m('claim', 'c', 5), m('renew', 'b', 5)], 'b@5'],
    ['a release frees its own epoch only', [m('renew', 'a', 4), m('release', 'b', 4), m('release', 'a', 3)], 'a@4'],
    ['a release by the holder frees it', [m('renew', 'a', 4), m('release', 'a', 4)], 'free@4'],
    ['a free lease is not renewed back by a stale renewal', [m('renew', 'a', 4), m('release', 'a', 4), m('renew', 'a', 4)], 'free@4'],
  ])('%s', (_name, messages, expected) => {
    const t = new LeaseTable();
    messages.forEach((x, i) => t.apply(x, i));
    expect(state(t)).toBe(expected);
  });

  it('keeps when the holder was last heard, on the receiver clock, and the release boundary', () => {
    const t = new LeaseTable();
    t.apply(m('claim', 'a', 1), 100);
    t.apply(m('renew', 'a', 1), 2100);
    expect(t.get('p')).toMatchObject({ heardAtMs: 2100, sentAt: 1000 });
    t.apply(m('release', 'a', 1, { untilMs: 5000 }), 3000);
    expect(t.get('p')).toMatchObject({ owner: null, untilMs: 5000 });
  });
});
