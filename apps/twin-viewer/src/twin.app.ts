/**
 * The viewer: loads the park, builds the scene and the panels, and keeps
 * them in step with the live stream. All state changes go through
 * `dispatch` (the pure reducer of lib/live.reducer.ts); this file only
 * decides which view to refresh.
 */
import type { Alarm, LiveMessage } from '@park/metrics';
import type { BuildingModel, ParkModel } from '@park/telemetry';
import { ApiError, ParkApi, type ParkSummary } from './api/park.api';
import { LiveSocket } from './api/live.socket';
import { metricText, metricValue } from './lib/building.metric';
import { COLOUR_MODES, SCALES, colourInto, rgbToHex, type ColourMode } from './lib/colour.scale';
import { alarmSeverity, initialTwinState, isStale, reduceTwin, type TwinEvent, type TwinState } from './lib/live.reducer';
import { buildParkGeometry } from './lib/park.geometry';
import { backoffDelayMs } from './lib/reconnect.backoff';
import { formatAge, formatClock, formatNumber } from './lib/units.format';
import { TwinScene, WebGLUnavailableError } from './scene/twin.scene';
import { AlarmPanelView } from './ui/alarm-panel.view';
import { BuildingListView } from './ui/building-list.view';
import { BuildingPanelView } from './ui/building-panel.view';
import { byId, h, setText } from './ui/dom.helpers';
import { HudView } from './ui/hud.view';
import { LabelsView } from './ui/labels.view';
import { renderLegend } from './ui/legend.view';

/** How often the stale check runs (the limit itself is 3 s, lib/live.reducer.ts). */
const STALE_CHECK_MS = 500;
const KPI_REFRESH_MS = 60_000;

/**
 * The test and benchmark hook (`window.__twin`). Positions are CSS pixels
 * relative to the canvas's top-left corner; `pageX/pageY` add the canvas's
 * offset in the page for mouse events and screenshots.
 */
export interface TwinHook {
  ready: boolean;
  parkId: string;
  /** Buildings drawn (with at least a wall or a roof). */
  buildingCount: number;
  mode: ColourMode;
  stale: boolean;
  /** Epoch ms (client clock) of the last `now` applied, or null. */
  lastNowAt: number | null;
  projectBuilding(id: string): { x: number; y: number; pageX: number; pageY: number; visible: boolean } | null;
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
}

declare global {
  interface Window {
    __twin?: TwinHook;
  }
}

function fail(message: string, detail?: string): void {
  const box = byId('fatal');
  box.hidden = false;
  box.replaceChildren(h('h2', {}, message), ...(detail ? [h('p', {}, detail)] : []));
}

/** Loads the list of parks, retrying while the gateway is not up yet. */
async function loadParks(api: ParkApi): Promise<ParkSummary[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.parks();
    } catch (e) {
      const wait = backoffDelayMs(attempt);
      fail('Cannot reach the gateway', `${(e as Error).message}. Retrying in ${Math.ceil(wait / 1000)} s…`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export async function startTwin(): Promise<void> {
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
  };
  window.__twin = hook;

  const api = new ParkApi();
  const parks = await loadParks(api);
  byId('fatal').hidden = true;
  if (parks.length === 0) return fail('The gateway serves no park', 'Set PARK_MODEL to a park model file and restart the gateway.');
  const asked = new URLSearchParams(location.search).get('park');
  const summary = asked ? parks.find((p) => p.id === asked) : parks[0];
  if (!summary) return fail(`No park "${asked}"`, `This gateway serves: ${parks.map((p) => p.id).join(', ')}.`);

  let model: ParkModel;
  try {
    model = await api.model(summary.id);
  } catch (e) {
    hook.error = (e as Error).message;
    return fail('Cannot load the park model', (e as Error).message);
  }
  hook.parkId = model.id;
  document.title = `${model.name} — park twin`;
  setText(byId('park-name'), model.name);
  setText(byId('park-meta'), `${model.buildings.length} buildings · ${summary.sensors} sensors${model.landAreaKm2 ? ` · ${formatNumber(model.landAreaKm2, 2)} km²` : ''}`);
  setUpParkSelect(parks, model.id);

  const buildings = model.buildings;
  const byBuilding = new Map<string, BuildingModel>(buildings.map((b) => [b.id, b]));
  const indexOf = new Map<string, number>(buildings.map((b, i) => [b.id, i]));
  const geometry = buildParkGeometry(model);

  let scene: TwinScene | null = null;
  try {
    scene = new TwinScene(byId('viewport-canvas'), geometry);
  } catch (e) {
    if (!(e instanceof WebGLUnavailableError)) throw e;
    const box = byId('webgl-error');
    box.hidden = false;
    box.replaceChildren(
      h('h2', {}, 'The 3D view needs WebGL 2'),
      h('p', {}, `${e.message}. Enable hardware acceleration in the browser settings, or use a browser with WebGL 2. The park figures, the building list, the alarms and the building details still work.`),
    );
    hook.error = e.message;
  }

  let state: TwinState = initialTwinState(model.id);
  const askedMode = new URLSearchParams(location.search).get('colour') as ColourMode;
  let mode: ColourMode = COLOUR_MODES.includes(askedMode) ? askedMode : 'load';
  let selected = -1;
  let stale = true;

  const hud = new HudView(byId('hud'), model);
  const panel = new BuildingPanelView(byId('building-panel'), api, model.id, () => select(-1), (id) => scene?.focusBuilding(indexOf.get(id) ?? -1));
  const alarms = new AlarmPanelView(byId('alarm-panel'), byBuilding, (id) => select(indexOf.get(id) ?? -1));
  const list = new BuildingListView(byId('building-list'), buildings, (i) => select(i === selected ? -1 : i), (i) => scene?.setHovered(i), (i) => refreshRow(i));
  const labels = scene ? new LabelsView(byId('labels'), geometry.slots, scene) : null;

  const scratch = { r: 0, g: 0, b: 0 };

  /** Recolours every building for the current mode and state: O(buildings), no allocation in the scene. */
  function recolour(): void {
    const scale = SCALES[mode];
    const withLabels = labels?.available === true;
    for (let i = 0; i < buildings.length; i++) {
      const b = buildings[i];
      colourInto(scale, metricValue(mode, b, state), scratch);
      scene?.setColour(i, scratch.r, scratch.g, scratch.b);
      // Text only where someone can read it: labels (small parks) and list rows on screen.
      const inList = list.isOnScreen(i);
      if (!inList && !withLabels) continue;
      const text = metricText(mode, b, state);
      if (inList) list.setValue(i, rgbToHex(scratch.r, scratch.g, scratch.b), text);
      labels?.setValue(i, text);
    }
  }

  function refreshRow(i: number): void {
    const b = buildings[i];
    colourInto(SCALES[mode], metricValue(mode, b, state), scratch);
    list.setValue(i, rgbToHex(scratch.r, scratch.g, scratch.b), metricText(mode, b, state));
  }

  function applyAlarms(): void {
    for (let i = 0; i < buildings.length; i++) {
      const sev = alarmSeverity(state, buildings[i].id);
      scene?.setAlarm(i, sev === 'critical' ? 2 : sev === 'warn' ? 1 : 0);
      list.setAlarm(i, sev);
      labels?.setPriority(i, sev === 'critical' ? 2 : sev === 'warn' ? 1 : 0);
    }
  }

  function select(i: number): void {
    selected = i;
    scene?.setSelected(i);
    list.setSelected(i);
    if (i < 0) panel.close();
    else panel.open(buildings[i], state);
    document.body.classList.toggle('has-selection', i >= 0);
  }

  function setMode(m: ColourMode): void {
    mode = m;
    hook.mode = m;
    renderLegend(byId('legend'), SCALES[m]);
    const input = document.querySelector<HTMLInputElement>(`input[name="colour-mode"][value="${m}"]`);
    if (input) input.checked = true;
    // Keep the choice in the address, so a wall display can be bookmarked on it.
    const q = new URLSearchParams(location.search);
    q.set('colour', m);
    history.replaceState(null, '', `?${q}${location.hash}`);
    recolour();
    labels?.layout();
  }

  function dispatch(event: TwinEvent): void {
    const t0 = performance.now();
    const prev = state;
    state = reduceTwin(state, event, Date.now());
    if (state === prev) return;
    const recoloured = state.buildings !== prev.buildings || state.vitals !== prev.vitals || state.active !== prev.active || state.alarmsKnown !== prev.alarmsKnown;
    if (recoloured) recolour();
    if (state.active !== prev.active) applyAlarms();
    // Label texts (and so widths) and priorities changed: place them again.
    if (recoloured) labels?.layout();
    if (state.log !== prev.log) alarms.update(state);
    if (state.vitals !== prev.vitals && prev.vitals && event.type === 'vitals') scheduleKpis(3000);
    hud.update(state, stale);
    panel.update(state);
    checkStale();
    hook.lastNowAt = state.nowAtMs;
    hook.stats.updates = state.updates;
    hook.stats.lastUpdateMs = performance.now() - t0;
  }

  function checkStale(): void {
    const s = isStale(state, Date.now());
    const banner = byId('stale-banner');
    if (s) {
      const why =
        state.connection === 'open'
          ? `No live update for ${formatAge(Date.now() - (state.nowAtMs ?? Date.now()))}`
          : state.nowAtMs === null
            ? 'Connecting to the live stream…'
            : `Live stream lost — last update ${formatAge(Date.now() - state.nowAtMs)}. Reconnecting…`;
      setText(banner, why);
    }
    banner.dataset.connection = state.connection;
    const conn = byId('conn-status');
    setText(conn, s ? (state.connection === 'open' ? 'Stale' : 'Reconnecting…') : `Live · ${formatClock(state.nowAtMs)}`);
    conn.dataset.state = s ? 'stale' : 'live';
    if (s === stale) return;
    stale = s;
    hook.stale = s;
    banner.hidden = !s;
    scene?.setStale(s);
    hud.update(state, s);
  }

  // Colour mode selector.
  const modes = byId('colour-modes');
  for (const m of COLOUR_MODES) {
    const input = h('input', { type: 'radio', name: 'colour-mode', value: m, id: `mode-${m}` });
    input.addEventListener('change', () => input.checked && setMode(m));
    modes.append(h('label', { for: `mode-${m}`, class: 'segment' }, input, h('span', {}, SCALES[m].name)));
  }

  // Labels toggle and reset view.
  const labelToggle = byId<HTMLInputElement>('show-labels');
  if (!labels?.available) labelToggle.closest('label')?.setAttribute('hidden', '');
  labelToggle.addEventListener('change', () => labels?.setEnabled(labelToggle.checked));
  byId('reset-view').addEventListener('click', () => scene?.resetView());
  byId('reset-view').hidden = !scene;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && selected >= 0) select(-1);
  });

  if (scene) wireCanvas(scene, buildings, labels, () => mode, () => state, select);

  setMode(mode);
  hud.update(state, true);
  checkStale();
  setInterval(checkStale, STALE_CHECK_MS);

  // Start-up data: the socket's snapshot usually wins the race; REST covers a slow or failing socket.
  api.vitals(model.id).then(
    (v) => dispatch({ type: 'vitals-loaded', vitals: v }),
    () => undefined,
  );
  api.alarms(model.id).then(
    (list: Alarm[]) => dispatch({ type: 'alarms-loaded', alarms: list, atMs: Date.now() }),
    () => undefined,
  );

  let kpiTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleKpis(inMs: number): void {
    clearTimeout(kpiTimer);
    kpiTimer = setTimeout(loadKpis, inMs);
  }
  async function loadKpis(): Promise<void> {
    try {
      hud.setKpis(await api.kpis(model.id), null);
    } catch (e) {
      hud.setKpis(null, e instanceof ApiError ? e.message : String(e));
    }
    hud.update(state, stale);
    scheduleKpis(KPI_REFRESH_MS);
  }
  void loadKpis();

  const socket = new LiveSocket(model.id, {
    message: (msg: LiveMessage) => dispatch(msg),
    connection: (c) => {
      dispatch({ type: 'connection', state: c });
      // Back after a drop: today's totals may have moved on.
      if (c === 'open') scheduleKpis(1000);
    },
  });
  socket.start();

  hook.buildingCount = scene ? geometry.slots.filter((s) => s.vertexCount > 0).length : 0;
  hook.colourOf = (id) => {
    const i = indexOf.get(id);
    return i === undefined || !scene ? null : scene.colourOf(i);
  };
  hook.projectBuilding = (id) => {
    const i = indexOf.get(id);
    if (i === undefined || !scene) return null;
    const rect = scene.canvas.getBoundingClientRect();
    const clear = (x: number, y: number) => (labels ? labels.isClear(x, y) : true) && document.elementFromPoint(rect.left + x, rect.top + y) === scene?.canvas;
    const p = scene.locate(i, clear);
    return p ? { x: p.x, y: p.y, pageX: rect.left + window.scrollX + p.x, pageY: rect.top + window.scrollY + p.y, visible: p.visible && p.onScreen } : null;
  };
  Object.defineProperty(hook.stats, 'lastMessageMs', { get: () => socket.lastHandleMs, enumerable: true });
  Object.defineProperty(hook.stats, 'renders', { get: () => scene?.stats.renders ?? 0, enumerable: true });
  Object.defineProperty(hook.stats, 'lastRenderMs', { get: () => scene?.stats.lastRenderMs ?? 0, enumerable: true });
  Object.defineProperty(hook.stats, 'firstFrameMs', { get: () => scene?.stats.firstFrameAt ?? 0, enumerable: true });
  // Ready once the first frame with the park is on screen.
  const whenDrawn = () => {
    if (!scene || scene.stats.renders > 0) hook.ready = true;
    else requestAnimationFrame(whenDrawn);
  };
  whenDrawn();
}

function setUpParkSelect(parks: ParkSummary[], current: string): void {
  const select = byId<HTMLSelectElement>('park-select');
  if (parks.length < 2) {
    select.closest('label')?.setAttribute('hidden', '');
    return;
  }
  select.replaceChildren(...parks.map((p) => h('option', { value: p.id, selected: p.id === current }, p.name)));
  select.addEventListener('change', () => {
    const q = new URLSearchParams(location.search);
    q.set('park', select.value);
    location.search = q.toString();
  });
}

/** Hover tooltip, click to select, labels following the camera. */
function wireCanvas(
  scene: TwinScene,
  buildings: readonly BuildingModel[],
  labels: LabelsView | null,
  mode: () => ColourMode,
  state: () => TwinState,
  select: (i: number) => void,
): void {
  const tooltip = byId('tooltip');
  const canvas = scene.canvas;
  let px = 0;
  let py = 0;
  let pending = false;
  let down: { x: number; y: number } | null = null;

  scene.onViewChange = () => labels?.layout();

  const hover = () => {
    pending = false;
    const i = scene.pick(px, py);
    scene.setHovered(i);
    canvas.style.cursor = i >= 0 ? 'pointer' : '';
    if (i < 0) {
      tooltip.hidden = true;
      return;
    }
    const b = buildings[i];
    tooltip.replaceChildren(
      h('strong', {}, b.name),
      h('span', { class: 'tooltip-id' }, ` ${b.id}`),
      h('div', {}, `${SCALES[mode()].name}: ${metricText(mode(), b, state())}`),
      h('div', { class: 'tooltip-hint' }, 'Click for details'),
    );
    tooltip.hidden = false;
    const { width } = scene.size();
    const left = px + 16 + tooltip.offsetWidth > width ? px - 16 - tooltip.offsetWidth : px + 16;
    tooltip.style.transform = `translate(${Math.round(left)}px, ${Math.round(py + 16)}px)`;
  };

  canvas.addEventListener('pointermove', (e) => {
    px = e.offsetX;
    py = e.offsetY;
    if (!pending) {
      pending = true;
      requestAnimationFrame(hover);
    }
  });
  canvas.addEventListener('pointerleave', () => {
    tooltip.hidden = true;
    scene.setHovered(-1);
  });
  canvas.addEventListener('pointerdown', (e) => {
    down = { x: e.offsetX, y: e.offsetY };
  });
  canvas.addEventListener('pointerup', (e) => {
    // A click, not the end of an orbit drag.
    if (!down || Math.hypot(e.offsetX - down.x, e.offsetY - down.y) > 5 || e.button !== 0) return;
    down = null;
    select(scene.pick(e.offsetX, e.offsetY));
  });
}
