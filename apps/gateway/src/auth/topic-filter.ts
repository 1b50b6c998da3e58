import { TOPIC_ROOT } from '@park/telemetry';

/**
 * MQTT topic filter matching (MQTT 3.1.1 §4.7): `+` matches one level, `#`
 * (last level only) matches any number of levels including none of the parent.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1; // [MQTT-4.7.1-2] '#' must be last
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is this a syntactically valid topic filter (MQTT 3.1.1 §4.7.1)? */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}

/**
 * Could a subscription with this filter receive telemetry (`park/...`) or
 * broker internals (`$SYS/...`)? Devices may not make such subscriptions.
 * `$share/{group}/{filter}` is judged by its inner filter.
 */
export function reachesProtectedTopics(filter: string): boolean {
  let f = filter;
  if (f.startsWith('$share/')) f = f.split('/').slice(2).join('/');
  const first = f.split('/')[0];
  return first === '#' || first === '+' || first === TOPIC_ROOT || first === '$SYS';
}

/** Why a publish filter is unfit for a device credential, or undefined if fine. */
export function isValidFilterForDevice(filter: string): string | undefined {
  if (!isValidFilter(filter)) return 'not a valid MQTT topic filter';
  if (filter.startsWith('$')) return 'devices may not publish to $-topics';
  if (!filter.startsWith(`${TOPIC_ROOT}/`)) return `telemetry filters start with ${TOPIC_ROOT}/{park}/`;
  const levels = filter.split('/');
  if (levels[1] === '#' || levels[1] === '+') return `a device credential must name its park (${TOPIC_ROOT}/<park>/...)`;
  return undefined;
}
