/**
 * Rendezvous (highest random weight) hashing: each park goes to the member
 * with the highest hash of (park, member). Every gateway that sees the same
 * members picks the same owner, and when a member joins or leaves only the
 * parks it wins or held move.
 */

/** FNV-1a, 32 bits, of a string's UTF-16 code units; then a final avalanche so close ids spread. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The member that should own `park` among `members` (ties: the smaller id); undefined when there is none. */
export function rendezvousOwner(park: string, members: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const score = hash32(`${park}\u0000${m}`);
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}
