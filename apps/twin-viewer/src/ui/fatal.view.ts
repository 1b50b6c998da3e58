/**
 * The page-wide messages for when the viewer cannot do its job: the fatal
 * box (no gateway, no park, a broken start) and the box that replaces the 3D
 * view when there is no WebGL 2 (the figures, the list and the panels still
 * work then).
 */
import { byId, h } from './dom.helpers';

/** Shows the fatal box with a headline and, optionally, what to do about it. */
export function showFatal(message: string, detail?: string): void {
  const box = byId('fatal');
  box.hidden = false;
  box.replaceChildren(h('h2', {}, message), ...(detail ? [h('p', {}, detail)] : []));
}

export function hideFatal(): void {
  byId('fatal').hidden = true;
}

/** Explains, over the 3D view, why it is missing and what still works. */
export function showWebGlUnavailable(reason: string): void {
  const box = byId('webgl-error');
  box.hidden = false;
  box.replaceChildren(
    h('h2', {}, 'The 3D view needs WebGL 2'),
    h('p', {}, `${reason}. Enable hardware acceleration in the browser settings, or use a browser with WebGL 2. The park figures, the building list, the alarms and the building details still work.`),
  );
}
