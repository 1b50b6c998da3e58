/**
 * The 3D twin: every building extruded from its footprint, merged into ONE
 * mesh (plus one line set for the edges and one for the ground pads), all
 * reading their colour from a per-building state texture.
 *
 * Why merged geometry and not an InstancedMesh: footprints are arbitrary
 * polygons (L-shapes, courtyards), so there is no one shape to instance. One
 * merged buffer is 3 draw calls for the whole park at any size; recolouring
 * writes 4 bytes per building into a preallocated array and uploads the
 * texture once per frame.
 *
 * Rendering is on demand: a frame is drawn when something asked for it
 * (colours, camera, hover, resize), and at a throttled rate while an alarm
 * pulses. Scratch objects live at module scope; the frame loop allocates
 * nothing. `dispose()` gives back everything the scene took: the GPU's
 * geometries, materials (programs) and texture, the WebGL context, the
 * canvas, the observers and the pending frame.
 */
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  DataTexture,
  Fog,
  GridHelper,
  Line,
  LineBasicMaterial,
  LineLoop,
  LineSegments,
  Material,
  Mesh,
  MeshBasicMaterial,
  NearestFilter,
  PerspectiveCamera,
  Raycaster,
  RGBAFormat,
  Scene,
  ShaderMaterial,
  UnsignedByteType,
  Vector2,
  Vector3,
  WebGLRenderer,
  type Intersection,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { CRITICAL_HEX, WARN_HEX, hexToRgb, rgbToHex } from '../lib/colour.scale';
import { frameBox, type Framing, type ParkGeometry } from '../lib/park.geometry';
import { BUILDING_FRAGMENT, BUILDING_VERTEX, EDGE_FRAGMENT, EDGE_VERTEX, PAD_FRAGMENT, PAD_VERTEX } from './twin.shaders';

/** Thrown when the browser cannot give us WebGL 2 (no GPU, disabled, blocklisted). */
export class WebGLUnavailableError extends Error {}

/** Where a building shows on the canvas, in CSS pixels from the canvas's top-left corner. */
export interface ScreenPoint {
  x: number;
  y: number;
  /** In front of the camera and inside the canvas. */
  onScreen: boolean;
  /** Not hidden by another building. */
  visible: boolean;
}

/** Alarm highlight of a building. */
export type AlarmLevel = 0 | 1 | 2;

/** What the renderer holds on the GPU (three.js `renderer.info`): all 0 after `dispose()`. */
export interface GpuMemory {
  geometries: number;
  textures: number;
  /** Linked shader programs. */
  programs: number;
}

const STATE_WIDTH = 256;
const FOV_DEG = 40;
const PULSE_PERIOD_MS = 1400;
/** While only the alarm pulse animates, ~20 frames a second is smooth enough and spares the GPU of a wall display. */
const PULSE_FRAME_MS = 50;
const BACKGROUND = '#0d141b';

// Scratch objects (allocate once, reuse in every frame and probe).
const _v = new Vector3();
const _ndc = new Vector2();
const _from = new Vector3();
const _to = new Vector3();
const _fromTarget = new Vector3();
const _toTarget = new Vector3();
const _hits: Intersection[] = [];

interface Flight {
  startMs: number;
  durationMs: number;
}

export class TwinScene {
  readonly canvas: HTMLCanvasElement;
  readonly buildingCount: number;
  /** Buildings with at least a wall or a roof to draw. */
  readonly drawnBuildingCount: number;
  /** Frames drawn, CPU time of the last render call, time (performance.now) of the first frame. */
  readonly stats = { renders: 0, lastRenderMs: 0, firstFrameAt: 0 };
  /** Called after a frame in which the camera or the canvas size changed (labels follow). */
  onViewChange: () => void = () => undefined;

  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera: PerspectiveCamera;
  private readonly controls: OrbitControls;
  private readonly raycaster = new Raycaster();
  private readonly state: Uint8Array;
  private readonly stateTexture: DataTexture;
  private readonly uniforms: Record<string, { value: unknown }>;
  private readonly bodies: Mesh;
  private readonly alarmLevels: Uint8Array;
  private alarmCount = 0;
  private overview!: Framing;
  private frameRequested = false;
  private frameId = 0;
  private disposed = false;
  private pulseTimer: ReturnType<typeof setTimeout> | undefined;
  private textureDirty = true;
  private viewChanged = true;
  private flight: Flight | null = null;
  private stale = false;
  private readonly resizeObserver: ResizeObserver;
  private readonly reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');
  private width = 1;
  private height = 1;

  constructor(
    private readonly host: HTMLElement,
    private readonly geometry: ParkGeometry,
  ) {
    this.canvas = document.createElement('canvas');
    // WebGL 2 is what three.js r180 needs; ask first so the failure is ours to explain.
    const probe = this.canvas.getContext('webgl2', { antialias: true, preserveDrawingBuffer: true });
    if (!probe) throw new WebGLUnavailableError('WebGL 2 is not available in this browser');
    try {
      this.renderer = new WebGLRenderer({ canvas: this.canvas, context: probe, antialias: true, preserveDrawingBuffer: true, powerPreference: 'high-performance' });
    } catch (e) {
      throw new WebGLUnavailableError(`WebGL could not start: ${(e as Error).message}`);
    }
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(BACKGROUND);
    this.canvas.className = 'twin-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', '3D view of the park. Drag to orbit, right-drag or arrow keys to pan, wheel to zoom.');
    host.appendChild(this.canvas);

    this.buildingCount = geometry.slots.length;
    this.drawnBuildingCount = geometry.slots.filter((slot) => slot.vertexCount > 0).length;
    const rows = Math.max(1, Math.ceil(this.buildingCount / STATE_WIDTH));
    this.state = new Uint8Array(STATE_WIDTH * rows * 4);
    this.alarmLevels = new Uint8Array(this.buildingCount);
    this.stateTexture = new DataTexture(this.state, STATE_WIDTH, rows, RGBAFormat, UnsignedByteType);
    this.stateTexture.magFilter = NearestFilter;
    this.stateTexture.minFilter = NearestFilter;
    this.stateTexture.generateMipmaps = false;
    this.stateTexture.needsUpdate = true;

    const c = { r: 0, g: 0, b: 0 };
    hexToRgb(WARN_HEX, c);
    const warn = new Vector3(c.r / 255, c.g / 255, c.b / 255);
    hexToRgb(CRITICAL_HEX, c);
    const critical = new Vector3(c.r / 255, c.g / 255, c.b / 255);
    this.uniforms = {
      uState: { value: this.stateTexture },
      uStateWidth: { value: STATE_WIDTH },
      uSelected: { value: -1 },
      uHovered: { value: -1 },
      uPulse: { value: 0 },
      uStale: { value: 0 },
      uWarn: { value: warn },
      uCritical: { value: critical },
    };

    this.camera = new PerspectiveCamera(FOV_DEG, 1, 1, 10_000);
    this.bodies = this.buildBodies();
    this.scene.add(this.bodies, this.buildEdges(), this.buildPads());
    this.buildGround();

    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    // Pan along the ground, not the screen: the park stays level.
    this.controls.screenSpacePanning = false;
    this.controls.maxPolarAngle = (84 * Math.PI) / 180;
    this.controls.keyPanSpeed = 25;
    this.controls.listenToKeyEvents(this.canvas);
    this.controls.addEventListener('change', () => {
      this.viewChanged = true;
      this.requestRender();
    });
    this.controls.addEventListener('start', () => {
      this.flight = null;
    });

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.resize();
    this.resetView(false);
  }

  private buildBodies(): Mesh {
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(this.geometry.positions, 3));
    g.setAttribute('normal', new BufferAttribute(this.geometry.normals, 3));
    g.setAttribute('aBuilding', new BufferAttribute(this.geometry.building, 1));
    g.setAttribute('aFloorHeight', new BufferAttribute(this.geometry.floorHeight, 1));
    g.setIndex(new BufferAttribute(this.geometry.index, 1));
    g.computeBoundingSphere();
    g.computeBoundingBox();
    const m = new ShaderMaterial({
      uniforms: this.uniforms,
      vertexShader: BUILDING_VERTEX,
      fragmentShader: BUILDING_FRAGMENT,
      // Push faces back a little so the edge lines on them always win the depth test.
      polygonOffset: true,
      polygonOffsetFactor: 1,
      polygonOffsetUnits: 1,
    });
    const mesh = new Mesh(g, m);
    mesh.matrixAutoUpdate = false;
    return mesh;
  }

  private buildEdges(): LineSegments {
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(this.geometry.edgePositions, 3));
    g.setAttribute('aBuilding', new BufferAttribute(this.geometry.edgeBuilding, 1));
    const lines = new LineSegments(g, new ShaderMaterial({ uniforms: this.uniforms, vertexShader: EDGE_VERTEX, fragmentShader: EDGE_FRAGMENT }));
    lines.matrixAutoUpdate = false;
    lines.frustumCulled = false;
    return lines;
  }

  private buildPads(): Mesh {
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(this.geometry.padPositions, 3));
    g.setAttribute('aBuilding', new BufferAttribute(this.geometry.padBuilding, 1));
    g.setIndex(new BufferAttribute(this.geometry.padIndex, 1));
    const m = new ShaderMaterial({ uniforms: this.uniforms, vertexShader: PAD_VERTEX, fragmentShader: PAD_FRAGMENT, transparent: true, depthWrite: false });
    const pads = new Mesh(g, m);
    pads.matrixAutoUpdate = false;
    pads.frustumCulled = false;
    pads.renderOrder = 1;
    return pads;
  }

  private buildGround(): void {
    const { landPositions, landIndex, landBox, buildingBox } = this.geometry;
    const land = new BufferGeometry();
    land.setAttribute('position', new BufferAttribute(landPositions, 3));
    land.setIndex(new BufferAttribute(landIndex, 1));
    const landMesh = new Mesh(land, new MeshBasicMaterial({ color: '#17222c' }));
    landMesh.position.y = -0.05;
    const outline = new LineLoop(land, new LineBasicMaterial({ color: '#3c5366' }));
    outline.position.y = 0.02;
    // A 50 m (or coarser, for big parks) grid across the land: scale without a legend.
    const sizeX = landBox.max[0] - landBox.min[0];
    const sizeZ = landBox.max[2] - landBox.min[2];
    const size = Math.max(sizeX, sizeZ, buildingBox.max[0] - buildingBox.min[0], 10);
    const cell = size > 4000 ? 500 : size > 1500 ? 100 : size > 200 ? 50 : 10;
    const divisions = Math.max(1, Math.ceil(size / cell));
    const grid = new GridHelper(divisions * cell, divisions, '#223140', '#1d2a36');
    grid.position.set((landBox.min[0] + landBox.max[0]) / 2, 0, (landBox.min[2] + landBox.max[2]) / 2);
    this.scene.add(landMesh, grid, outline);
    this.scene.background = new Color(BACKGROUND);
  }

  /** Sets a building's colour (0–255 sRGB). Takes effect at the next frame; requests one when it changed. */
  setColour(index: number, r: number, g: number, b: number): void {
    const o = index * 4;
    const s = this.state;
    if (s[o] === r && s[o + 1] === g && s[o + 2] === b) return;
    s[o] = r;
    s[o + 1] = g;
    s[o + 2] = b;
    this.textureDirty = true;
    this.requestRender();
  }

  /** `#rrggbb` applied to a building now (the test hook's `colourOf`). */
  colourOf(index: number): string {
    const o = index * 4;
    return rgbToHex(this.state[o], this.state[o + 1], this.state[o + 2]);
  }

  /** Highlights a building with an active alarm (0 none, 1 warn, 2 critical). */
  setAlarm(index: number, level: AlarmLevel): void {
    if (this.alarmLevels[index] === level) return;
    this.alarmCount += (level > 0 ? 1 : 0) - (this.alarmLevels[index] > 0 ? 1 : 0);
    this.alarmLevels[index] = level;
    this.state[index * 4 + 3] = level === 2 ? 255 : level === 1 ? 128 : 0;
    this.textureDirty = true;
    this.requestRender();
  }

  setHovered(index: number): void {
    if (this.uniforms.uHovered.value === index) return;
    this.uniforms.uHovered.value = index;
    this.requestRender();
  }

  setSelected(index: number): void {
    if (this.uniforms.uSelected.value === index) return;
    this.uniforms.uSelected.value = index;
    this.requestRender();
  }

  /** Washes the colours out while the live data is stale. */
  setStale(stale: boolean): void {
    if (this.stale === stale) return;
    this.stale = stale;
    this.uniforms.uStale.value = stale ? 1 : 0;
    this.requestRender();
  }

  requestRender(): void {
    if (this.frameRequested || this.disposed) return;
    this.frameRequested = true;
    this.frameId = requestAnimationFrame(this.frame);
  }

  private readonly frame = (timeMs: number): void => {
    this.frameRequested = false;
    let animating = false;
    if (this.flight) animating = this.stepFlight(timeMs) || animating;
    // With damping, update() keeps moving the camera after the pointer is released.
    if (this.controls.update()) animating = true;
    const pulsing = this.alarmCount > 0 && !this.reducedMotion.matches;
    this.uniforms.uPulse.value = this.alarmCount === 0 ? 0 : pulsing ? 0.5 + 0.5 * Math.sin((timeMs / PULSE_PERIOD_MS) * 2 * Math.PI) : 1;
    if (this.textureDirty) {
      this.stateTexture.needsUpdate = true;
      this.textureDirty = false;
    }
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    const t1 = performance.now();
    this.stats.lastRenderMs = t1 - t0;
    this.stats.renders++;
    if (this.stats.firstFrameAt === 0) this.stats.firstFrameAt = t1;
    if (this.viewChanged) {
      this.viewChanged = false;
      this.onViewChange();
    }
    if (animating) this.requestRender();
    else if (pulsing && this.pulseTimer === undefined) {
      this.pulseTimer = setTimeout(() => {
        this.pulseTimer = undefined;
        this.requestRender();
      }, PULSE_FRAME_MS);
    }
  };

  private resize(): void {
    const w = Math.max(1, this.host.clientWidth);
    const h = Math.max(1, this.host.clientHeight);
    if (w === this.width && h === this.height) return;
    this.width = w;
    this.height = h;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.viewChanged = true;
    this.requestRender();
  }

  /** Back to the overview framing the whole park (animated unless reduced motion is asked for). */
  resetView(animate = true): void {
    this.overview = frameBox(this.geometry.buildingBox, FOV_DEG, this.width / this.height);
    const landSize = Math.hypot(this.geometry.landBox.max[0] - this.geometry.landBox.min[0], this.geometry.landBox.max[2] - this.geometry.landBox.min[2]);
    this.camera.near = this.overview.near;
    this.camera.far = this.overview.far + landSize * 2;
    this.camera.updateProjectionMatrix();
    this.controls.maxDistance = this.overview.distance * 3 + landSize;
    this.controls.minDistance = Math.max(5, this.overview.distance / 50);
    this.scene.fog = new Fog(BACKGROUND, this.overview.distance * 1.5, this.overview.distance * 4 + landSize);
    this.flyTo(_to.fromArray(this.overview.position), _toTarget.fromArray(this.overview.target), animate);
  }

  /** Frames one building (from the same side the camera looks from). */
  focusBuilding(index: number, animate = true): void {
    const slot = this.geometry.slots[index];
    if (!slot || slot.vertexCount === 0) return;
    const pos = this.geometry.positions;
    const min = [Infinity, 0, Infinity];
    const max = [-Infinity, 0, -Infinity];
    for (let v = slot.vertexStart; v < slot.vertexStart + slot.vertexCount; v++) {
      min[0] = Math.min(min[0], pos[v * 3]);
      max[0] = Math.max(max[0], pos[v * 3]);
      max[1] = Math.max(max[1], pos[v * 3 + 1]);
      min[2] = Math.min(min[2], pos[v * 3 + 2]);
      max[2] = Math.max(max[2], pos[v * 3 + 2]);
    }
    _v.subVectors(this.camera.position, this.controls.target);
    const azimuthDeg = (Math.atan2(_v.x, _v.z) * 180) / Math.PI;
    const f = frameBox({ min: min as [number, number, number], max: max as [number, number, number] }, FOV_DEG, this.width / this.height, { azimuthDeg, elevationDeg: 35, margin: 0.6 });
    this.flyTo(_to.fromArray(f.position), _toTarget.fromArray(f.target), animate);
  }

  private flyTo(position: Vector3, target: Vector3, animate: boolean): void {
    if (!animate || this.reducedMotion.matches) {
      this.flight = null;
      this.camera.position.copy(position);
      this.controls.target.copy(target);
      this.controls.update();
      this.viewChanged = true;
      this.requestRender();
      return;
    }
    _from.copy(this.camera.position);
    _fromTarget.copy(this.controls.target);
    this.flight = { startMs: performance.now(), durationMs: 700 };
    this.requestRender();
  }

  private stepFlight(timeMs: number): boolean {
    const f = this.flight as Flight;
    const t = Math.min(1, Math.max(0, (timeMs - f.startMs) / f.durationMs));
    const e = t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2;
    this.camera.position.lerpVectors(_from, _to, e);
    this.controls.target.lerpVectors(_fromTarget, _toTarget, e);
    this.viewChanged = true;
    if (t >= 1) this.flight = null;
    return t < 1;
  }

  /** The building under a point of the canvas (CSS px from its top-left), or -1. */
  pick(x: number, y: number): number {
    _ndc.set((x / this.width) * 2 - 1, -(y / this.height) * 2 + 1);
    this.raycaster.setFromCamera(_ndc, this.camera);
    _hits.length = 0;
    this.bodies.raycast(this.raycaster, _hits);
    if (_hits.length === 0) return -1;
    let best = _hits[0];
    for (const h of _hits) if (h.distance < best.distance) best = h;
    const face = best.face;
    return face ? Math.round(this.geometry.building[face.a]) : -1;
  }

  /** Projects a scene point to canvas CSS px into `out`; returns whether it is in front of the camera and on the canvas. */
  projectPoint(x: number, y: number, z: number, out: { x: number; y: number }): boolean {
    _v.set(x, y, z).project(this.camera);
    out.x = ((_v.x + 1) / 2) * this.width;
    out.y = ((1 - _v.y) / 2) * this.height;
    return _v.z > -1 && _v.z < 1 && out.x >= 0 && out.y >= 0 && out.x <= this.width && out.y <= this.height;
  }

  /** Distance from the camera to a scene point (labels: nearest first). */
  depthOf(x: number, y: number, z: number): number {
    return _v.set(x, y, z).distanceTo(this.camera.position);
  }

  /**
   * Where a building can be seen: the first of its roof points (centre
   * first) that is on screen and not hidden behind another building.
   * `accept` can veto a point (e.g. one covered by a label).
   */
  locate(index: number, accept: (x: number, y: number) => boolean = () => true): ScreenPoint | null {
    const slot = this.geometry.slots[index];
    if (!slot) return null;
    this.camera.updateMatrixWorld();
    let fallback: ScreenPoint | null = null;
    const p = { x: 0, y: 0 };
    for (const [x, y, z] of slot.roofPoints) {
      const onScreen = this.projectPoint(x, y, z, p);
      const visible = onScreen && this.pick(p.x, p.y) === index;
      const sp = { x: p.x, y: p.y, onScreen, visible };
      if (visible && accept(p.x, p.y)) return sp;
      fallback ??= sp;
    }
    return fallback;
  }

  /** Canvas CSS size. */
  size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  /** GPU resources the renderer holds now (the test hook's `gpuMemory`). */
  gpuMemory(): GpuMemory {
    const { memory, programs } = this.renderer.info;
    return { geometries: memory.geometries, textures: memory.textures, programs: programs?.length ?? 0 };
  }

  /**
   * Stops drawing and releases everything: no frame or pulse timer runs
   * afterwards, every geometry, material and texture is disposed (three.js
   * frees GPU memory only on an explicit `dispose()`), then the renderer and
   * its WebGL context (browsers allow a page only a few live contexts), and
   * the canvas leaves the page. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    cancelAnimationFrame(this.frameId);
    this.frameRequested = false;
    clearTimeout(this.pulseTimer);
    this.pulseTimer = undefined;
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.onViewChange = () => undefined;
    // Each once: the land's outline shares the land's geometry.
    const geometries = new Set<BufferGeometry>();
    const materials = new Set<Material>();
    this.scene.traverse((o) => {
      if (!(o instanceof Mesh || o instanceof Line)) return;
      geometries.add(o.geometry);
      for (const m of Array.isArray(o.material) ? o.material : [o.material]) materials.add(m);
    });
    for (const g of geometries) g.dispose();
    for (const m of materials) m.dispose();
    this.stateTexture.dispose();
    this.scene.clear();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.canvas.remove();
  }
}
