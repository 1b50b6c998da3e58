/**
 * The viewer's controller: loads the park, owns the live state and keeps the
 * views in step with it. Every change goes through `dispatch`, which applies
 * the pure reducer (lib/live.reducer.ts) and then refreshes only the views
 * that depend on what changed (the state is replaced, never mutated, so
 * identity says what changed). It also owns what runs in the background: the
 * live socket, the stale check, the KPI refresh, the start-up requests; and
 * `dispose()` stops all of it.
 *
 * The views draw (ui/*.view.ts, scene/twin.scene.ts); the controller decides.
 */
import type { ParkModel } from '@park/telemetry';
import { ApiError, isUnauthorized, ParkApi, type ParkSummary } from './api/park.api';
import { LiveSocket } from './api/live.socket';
import { metricText } from './lib/building.metric';
import { COLOUR_MODES, SCALES, type ColourMode } from './lib/colour.scale';
import { initialTwinState, isStale, reduceTwin, type TwinEvent, type TwinState } from './lib/live.reducer';
import { buildParkGeometry, type ParkGeometry } from './lib/park.geometry';
import { backoffDelayMs } from './lib/reconnect.backoff';
import { TwinScene, WebGLUnavailableError } from './scene/twin.scene';
import { connectTwinHook, installTwinHook, type TwinHook } from './twin.hook';
import { AlarmPanelView } from './ui/alarm-panel.view';
import { BuildingListView } from './ui/building-list.view';
import { BuildingPanelView } from './ui/building-panel.view';
import { BuildingsView } from './ui/buildings.view';
import { CanvasInputView } from './ui/canvas-input.view';
import { ControlsView } from './ui/controls.view';
import { byId } from './ui/dom.helpers';
import { hideFatal, showFatal, showWebGlUnavailable } from './ui/fatal.view';
import { HudView } from './ui/hud.view';
import { LabelsView } from './ui/labels.view';
import { LegendView } from './ui/legend.view';
import { LiveStatusView } from './ui/live-status.view';
import { LoginView } from './ui/login.view';
import { ParkHeaderView } from './ui/park-header.view';

/** How often the stale check runs (the limit itself is 3 s, lib/live.reducer.ts). */
const STALE_CHECK_MS = 500;
const KPI_REFRESH_MS = 60_000;
/** The forecast moves on each quarter hour (contract §8; refitted hourly). */
const FORECAST_REFRESH_MS = 15 * 60_000;
/** A window closed: today's totals moved on; ask a little later so the gateway has stored it. */
const KPI_AFTER_WINDOW_MS = 3000;
/** Back after a drop: today's totals may have moved on. */
const KPI_AFTER_RECONNECT_MS = 1000;

/** What the controller starts from: the park chosen and its model. */
export interface TwinStart {
  api: ParkApi;
  hook: TwinHook;
  /** The sign-in form (contract §8), shown again whenever the session ends. */
  login: LoginView;
  parks: readonly ParkSummary[];
  summary: ParkSummary;
  model: ParkModel;
}

export class TwinController {
  /**
   * Loads the park (`?park=<id>`, else the first the gateway serves) and
   * starts the viewer on it. Until the gateway answers, the page says so and
   * retries with backoff. Resolves to null when the page shows why it cannot
   * run (no park, unknown park, model not loaded) or when the hook's
   * `dispose()` was called meanwhile.
   */
  static async start(api = new ParkApi()): Promise<TwinController | null> {
    const hook = installTwinHook();
    const boot = new AbortController();
    hook.dispose = () => {
      boot.abort();
      hook.disposed = true;
    };
    const login = new LoginView(byId('login'), async (token) => {
      try {
        await api.signIn(token);
      } catch (e) {
        throw new Error(isUnauthorized(e) ? 'That token is not valid: revoked, expired or mistyped.' : (e as Error).message);
      }
    });
    const parks = await loadParks(api, login, boot.signal);
    if (!parks) return null;
    hook.signedIn = true;
    hideFatal();
    if (parks.length === 0) {
      showFatal('The gateway serves no park', 'Set PARK_MODEL to a park model file and restart the gateway.');
      return null;
    }
    const asked = new URLSearchParams(location.search).get('park');
    const summary = asked ? parks.find((p) => p.id === asked) : parks[0];
    if (!summary) {
      showFatal(`No park "${asked}"`, `This gateway serves: ${parks.map((p) => p.id).join(', ')}.`);
      return null;
    }
    let model: ParkModel;
    try {
      model = await api.model(summary.id, boot.signal);
    } catch (e) {
      if (boot.signal.aborted) return null;
      hook.error = (e as Error).message;
      showFatal('Cannot load the park model', (e as Error).message);
      return null;
    }
    if (boot.signal.aborted) return null;
    return new TwinController({ api, hook, login, parks, summary, model });
  }

  private state: TwinState;
  private mode: ColourMode;
  private selected = -1;
  private stale = true;
  private disposed = false;
  private kpiTimer: ReturnType<typeof setTimeout> | undefined;
  private forecastTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly staleTimer: ReturnType<typeof setInterval>;
  /** Ends the listeners on page elements and the requests in flight. */
  private readonly lifetime = new AbortController();

  private readonly api: ParkApi;
  private readonly hook: TwinHook;
  private readonly login: LoginView;
  private readonly model: ParkModel;
  private readonly socket: LiveSocket;
  private readonly scene: TwinScene | null;
  private readonly header: ParkHeaderView;
  private readonly controls: ControlsView;
  private readonly legend: LegendView;
  private readonly status: LiveStatusView;
  private readonly hud: HudView;
  private readonly panel: BuildingPanelView;
  private readonly alarms: AlarmPanelView;
  private readonly list: BuildingListView;
  private readonly labels: LabelsView | null;
  private readonly buildings: BuildingsView;
  private readonly input: CanvasInputView | null;

  constructor(
    { api, hook, login, parks, summary, model }: TwinStart,
    /** Client clock, epoch ms (the reducer and the stale rule take time as an argument). */
    private readonly clock: () => number = Date.now,
  ) {
    this.api = api;
    this.hook = hook;
    this.login = login;
    this.model = model;
    // Any 401 (the session expired, the token was revoked, the gateway
    // restarted): ask again, then reload what the live stream does not bring.
    api.onUnauthorized = () => this.signInAgain();
    hook.parkId = model.id;
    this.state = initialTwinState(model.id);
    const askedMode = new URLSearchParams(location.search).get('colour') as ColourMode;
    this.mode = COLOUR_MODES.includes(askedMode) ? askedMode : 'load';
    const buildings = model.buildings;
    const indexOf = new Map<string, number>(buildings.map((b, i) => [b.id, i]));
    const index = (id: string) => indexOf.get(id) ?? -1;

    this.header = new ParkHeaderView({ name: byId('park-name'), meta: byId('park-meta'), select: byId<HTMLSelectElement>('park-select') }, model, summary, parks);
    const geometry = buildParkGeometry(model);
    this.scene = this.createScene(geometry);
    this.hud = new HudView(byId('hud'), model);
    this.panel = new BuildingPanelView(byId('building-panel'), api, model.id, () => this.select(-1), (id) => this.scene?.focusBuilding(index(id)));
    this.alarms = new AlarmPanelView(byId('alarm-panel'), new Map(buildings.map((b) => [b.id, b])), (id) => this.select(index(id)));
    this.list = new BuildingListView(
      byId('building-list'),
      buildings,
      (i) => this.select(i === this.selected ? -1 : i),
      (i) => this.buildings.setHovered(i),
      (i) => this.buildings.refreshRow(i, this.mode, this.state),
    );
    this.labels = this.scene ? new LabelsView(byId('labels'), geometry.slots, this.scene) : null;
    this.buildings = new BuildingsView(buildings, this.scene, this.list, this.labels);
    this.legend = new LegendView(byId('legend'));
    this.status = new LiveStatusView({ banner: byId('stale-banner'), chip: byId('conn-status') });
    this.controls = new ControlsView(
      { modes: byId('colour-modes'), labels: byId<HTMLInputElement>('show-labels'), resetView: byId<HTMLButtonElement>('reset-view') },
      { labelsAvailable: this.labels?.available === true, canResetView: this.scene !== null },
      { mode: (m) => this.setMode(m), labels: (on) => this.labels?.setEnabled(on), resetView: () => this.scene?.resetView() },
    );
    document.addEventListener(
      'keydown',
      (e) => {
        if (e.key === 'Escape' && this.selected >= 0) this.select(-1);
      },
      { signal: this.lifetime.signal },
    );
    if (this.scene) {
      this.scene.onViewChange = () => this.labels?.layout();
      this.input = new CanvasInputView(
        this.scene,
        byId('tooltip'),
        buildings,
        (i) => `${SCALES[this.mode].name}: ${metricText(this.mode, buildings[i], this.state)}`,
        (i) => this.select(i),
      );
    } else this.input = null;

    this.setMode(this.mode);
    this.hud.update(this.state, true);
    this.checkStale();
    this.staleTimer = setInterval(() => this.checkStale(), STALE_CHECK_MS);

    this.loadStartData();
    void this.loadKpis();
    void this.loadForecast();
    this.socket = new LiveSocket(model.id, {
      message: (msg) => this.dispatch(msg),
      connection: (c) => {
        this.dispatch({ type: 'connection', state: c });
        if (c === 'open') this.scheduleKpis(KPI_AFTER_RECONNECT_MS);
      },
      refused: () => void this.checkSession(),
    });
    this.socket.start();

    connectTwinHook(hook, { scene: this.scene, labels: this.labels, socket: this.socket, indexOf: (id) => indexOf.get(id), dispose: () => this.dispose() });
  }

  /** The 3D view, or null with an explanation in its place when the browser has no WebGL 2. */
  private createScene(geometry: ParkGeometry): TwinScene | null {
    try {
      return new TwinScene(byId('viewport-canvas'), geometry);
    } catch (e) {
      if (!(e instanceof WebGLUnavailableError)) throw e;
      showWebGlUnavailable(e.message);
      this.hook.error = e.message;
      return null;
    }
  }

  /** Applies one event to the state and refreshes what depends on the change. */
  dispatch(event: TwinEvent): void {
    if (this.disposed) return;
    const t0 = performance.now();
    const prev = this.state;
    const state = reduceTwin(prev, event, this.clock());
    if (state === prev) return;
    this.state = state;
    const recoloured = state.buildings !== prev.buildings || state.vitals !== prev.vitals || state.active !== prev.active || state.alarmsKnown !== prev.alarmsKnown;
    if (recoloured) this.buildings.recolour(this.mode, state);
    if (state.active !== prev.active) this.buildings.applyAlarms(state);
    // Label texts (and so widths) and priorities changed: place them again.
    if (recoloured) this.labels?.layout();
    if (state.log !== prev.log) this.alarms.update(state);
    if (state.vitals !== prev.vitals && prev.vitals && event.type === 'vitals') this.scheduleKpis(KPI_AFTER_WINDOW_MS);
    this.hud.update(state, this.stale);
    this.panel.update(state);
    this.checkStale();
    this.hook.lastNowAt = state.nowAtMs;
    this.hook.stats.updates = state.updates;
    this.hook.stats.lastUpdateMs = performance.now() - t0;
  }

  private checkStale(): void {
    const now = this.clock();
    const stale = isStale(this.state, now);
    this.status.update(this.state, stale, now);
    if (stale === this.stale) return;
    this.stale = stale;
    this.hook.stale = stale;
    this.scene?.setStale(stale);
    this.hud.update(this.state, stale);
  }

  private select(i: number): void {
    this.selected = i;
    this.buildings.setSelected(i);
    if (i < 0) this.panel.close();
    else this.panel.open(this.model.buildings[i], this.state);
    document.body.classList.toggle('has-selection', i >= 0);
  }

  private setMode(mode: ColourMode): void {
    this.mode = mode;
    this.hook.mode = mode;
    this.legend.show(SCALES[mode]);
    this.controls.showMode(mode);
    // Keep the choice in the address, so a wall display can be bookmarked on it.
    const q = new URLSearchParams(location.search);
    q.set('colour', mode);
    history.replaceState(null, '', `?${q}${location.hash}`);
    this.buildings.recolour(mode, this.state);
    this.labels?.layout();
  }

  /** Shows the sign-in form once; after sign-in, reloads the REST data (the socket reconnects by itself). */
  private signInAgain(): void {
    if (this.disposed || this.login.open) return;
    this.hook.signedIn = false;
    void this.login.ask('Your session has ended. Paste an operator token to go on.').then(() => {
      if (this.disposed) return;
      this.hook.signedIn = true;
      this.loadStartData();
      this.scheduleKpis(0);
    });
  }

  /** The live stream was refused: a 401 means the session ended. */
  private async checkSession(): Promise<void> {
    try {
      await this.api.session(this.lifetime.signal);
    } catch (e) {
      if (isUnauthorized(e)) this.signInAgain();
    }
  }

  /** The latest window and the active alarms by REST: the socket's snapshot usually wins the race; this covers a slow or failing socket. */
  private loadStartData(): void {
    const { signal } = this.lifetime;
    this.api.vitals(this.model.id, signal).then(
      (vitals) => this.dispatch({ type: 'vitals-loaded', vitals }),
      () => undefined,
    );
    this.api.alarms(this.model.id, signal).then(
      (alarms) => this.dispatch({ type: 'alarms-loaded', alarms, atMs: this.clock() }),
      () => undefined,
    );
  }

  private scheduleKpis(inMs: number): void {
    clearTimeout(this.kpiTimer);
    if (!this.disposed) this.kpiTimer = setTimeout(() => void this.loadKpis(), inMs);
  }

  private async loadKpis(): Promise<void> {
    try {
      const kpis = await this.api.kpis(this.model.id, this.lifetime.signal);
      if (this.disposed) return;
      this.hud.setKpis(kpis, null);
    } catch (e) {
      if (this.disposed) return;
      this.hud.setKpis(null, e instanceof ApiError ? e.message : String(e));
    }
    this.hud.update(this.state, this.stale);
    this.scheduleKpis(KPI_REFRESH_MS);
  }

  /** The park's day-ahead forecast for the HUD; again every quarter hour. */
  private async loadForecast(): Promise<void> {
    try {
      const f = await this.api.forecast(this.model.id, { metric: 'load_kw', every: '15m' }, this.lifetime.signal);
      if (this.disposed) return;
      this.hud.setForecast(f, null);
    } catch (e) {
      if (this.disposed) return;
      this.hud.setForecast(null, e instanceof ApiError ? e.message : String(e));
    }
    this.hook.forecastLoaded = true;
    clearTimeout(this.forecastTimer);
    if (!this.disposed) this.forecastTimer = setTimeout(() => void this.loadForecast(), FORECAST_REFRESH_MS);
  }

  /**
   * Stops the viewer and gives back what it holds: timers, the live socket,
   * requests in flight, listeners on the page, the scene's GPU resources and
   * WebGL context, and what the views added to the page. Nothing runs
   * afterwards. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.api.onUnauthorized = undefined;
    clearInterval(this.staleTimer);
    clearTimeout(this.kpiTimer);
    clearTimeout(this.forecastTimer);
    this.socket.stop();
    this.lifetime.abort();
    this.input?.dispose();
    this.labels?.dispose();
    this.scene?.dispose();
    this.panel.dispose();
    this.list.dispose();
    this.alarms.dispose();
    this.hud.dispose();
    this.legend.dispose();
    this.controls.dispose();
    this.header.dispose();
    document.body.classList.remove('has-selection');
    this.hook.disposed = true;
  }
}

/** The parks the gateway serves, retrying with backoff while it is not up yet; null once `signal` aborts. */
async function loadParks(api: ParkApi, login: LoginView, signal: AbortSignal): Promise<ParkSummary[] | null> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await api.parks(signal);
    } catch (e) {
      if (signal.aborted) break;
      if (isUnauthorized(e)) {
        // No session yet (contract §8): ask for a token, then try again at once.
        hideFatal();
        await login.ask();
        attempt = -1;
        continue;
      }
      const wait = backoffDelayMs(attempt);
      showFatal('Cannot reach the gateway', `${(e as Error).message}. Retrying in ${Math.ceil(wait / 1000)} s…`);
      await sleep(wait, signal);
    }
  }
  return null;
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
