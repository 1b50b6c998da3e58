/**
 * The test and benchmark hook, `window.__twin` (docs/viewer.md, "Test
 * hook"): what the browser tests (test/browser/twin-viewer.test.ts) and the
 * renderer benchmark (test/bench/viewer.bench.ts) read from a running
 * viewer. Not an API for users; those two depend on its shape.
 *
 * Positions are CSS pixels relative to the canvas's top-left corner;
 * `pageX/pageY` add the canvas's offset in the page for mouse events and
 * screenshots.
 */
import type { LiveSocket } from './api/live.socket';
import type { ColourMode } from './lib/colour.scale';
import type { GpuMemory, TwinScene } from './scene/twin.scene';
import type { LabelsView } from './ui/labels.view';

/** Where a building shows (see {@link TwinHook.projectBuilding}). */
export interface HookScreenPoint {
  x: number;
  y: number;
  pageX: number;
  pageY: number;
  visible: boolean;
}

export interface TwinHook {
  /** The first frame with the park is drawn (at once when there is no 3D view). */
  ready: boolean;
  parkId: string;
  /** Buildings drawn (with at least a wall or a roof). */
  buildingCount: number;
  mode: ColourMode;
  stale: boolean;
  /** Epoch ms (client clock) of the last `now` applied, or null. */
  lastNowAt: number | null;
  /**
   * A point of the building's roof: the centre when it is visible, else
   * another roof point not hidden by another building, a label or a panel.
   */
  projectBuilding(id: string): HookScreenPoint | null;
  /** The `#rrggbb` applied to a building. */
  colourOf(id: string): string | null;
  stats: {
    /** Events applied to the state. */
    updates: number;
    /** Main-thread ms of the last state change: reducer, recolouring, panels (render excluded). */
    lastUpdateMs: number;
    /** The same plus JSON parsing, for the last live-stream message. */
    lastMessageMs: number;
    /** Frames drawn; ms of the last renderer.render call; performance.now() of the first frame. */
    renders: number;
    lastRenderMs: number;
    firstFrameMs: number;
  };
  error: string | null;
  /** The gateway accepts the viewer's session (false while the sign-in form shows). */
  signedIn: boolean;
  /** The HUD's first forecast request (contract §8) has answered (a forecast or why there is none). */
  forecastLoaded: boolean;
  /** `dispose()` has run. */
  disposed: boolean;
  /** GPU resources the 3D view holds (three.js `renderer.info`); null without a 3D view. */
  gpuMemory(): GpuMemory | null;
  /** Stops the viewer and releases everything it holds (`TwinController.dispose`). */
  dispose(): void;
}

declare global {
  interface Window {
    __twin?: TwinHook;
  }
}

/** Puts a blank hook on `window`, before the park loads, so a start-up error can be read from it. */
export function installTwinHook(): TwinHook {
  const hook: TwinHook = {
    ready: false,
    parkId: '',
    buildingCount: 0,
    mode: 'load',
    stale: true,
    lastNowAt: null,
    projectBuilding: () => null,
    colourOf: () => null,
    stats: { updates: 0, lastUpdateMs: 0, lastMessageMs: 0, renders: 0, lastRenderMs: 0, firstFrameMs: 0 },
    error: null,
    signedIn: false,
    forecastLoaded: false,
    disposed: false,
    gpuMemory: () => null,
    dispose: () => undefined,
  };
  window.__twin = hook;
  return hook;
}

/** What the hook reads from a running viewer. */
export interface TwinHookSource {
  scene: TwinScene | null;
  labels: LabelsView | null;
  socket: LiveSocket;
  /** A building's index in the model (and in the scene), or undefined. */
  indexOf(buildingId: string): number | undefined;
  /** Stops the viewer. */
  dispose(): void;
}

/** Connects the hook to a running viewer: probes, live stats, readiness, dispose. */
export function connectTwinHook(hook: TwinHook, src: TwinHookSource): void {
  const { scene, labels, socket } = src;
  hook.buildingCount = scene ? scene.drawnBuildingCount : 0;
  hook.colourOf = (id) => {
    const i = src.indexOf(id);
    return i === undefined || !scene ? null : scene.colourOf(i);
  };
  hook.projectBuilding = (id) => {
    const i = src.indexOf(id);
    if (i === undefined || !scene || hook.disposed) return null;
    const rect = scene.canvas.getBoundingClientRect();
    const clear = (x: number, y: number) => (labels ? labels.isClear(x, y) : true) && document.elementFromPoint(rect.left + x, rect.top + y) === scene.canvas;
    const p = scene.locate(i, clear);
    return p ? { x: p.x, y: p.y, pageX: rect.left + window.scrollX + p.x, pageY: rect.top + window.scrollY + p.y, visible: p.visible && p.onScreen } : null;
  };
  hook.gpuMemory = () => scene?.gpuMemory() ?? null;
  hook.dispose = () => src.dispose();
  // Live figures are read when asked (getters, enumerable so JSON.stringify in the tests sees them).
  const live = <T extends object>(o: T, key: keyof T & string, get: () => unknown) => Object.defineProperty(o, key, { get, enumerable: true, configurable: true });
  live(hook.stats, 'lastMessageMs', () => socket.lastHandleMs);
  live(hook.stats, 'renders', () => scene?.stats.renders ?? 0);
  live(hook.stats, 'lastRenderMs', () => scene?.stats.lastRenderMs ?? 0);
  live(hook.stats, 'firstFrameMs', () => scene?.stats.firstFrameAt ?? 0);
  live(hook, 'ready', () => !scene || scene.stats.renders > 0);
}
