/**
 * Park model → scene geometry, without three.js or the DOM so it is unit
 * tested in node: footprint clean-up and triangulation, extrusion of every
 * building into ONE vertex buffer (walls with flat normals, roof), roof and
 * corner edge lines, the land polygon, bounds and the camera framing.
 *
 * Scene frame: x = east, y = up, z = south (-north), metres, centred on the
 * buildings' bounding box so float32 positions stay precise for any park.
 */
import type { ParkModel } from '@park/telemetry';

/** A point of a footprint, [east, north] metres (contract §4). */
export type Point2 = readonly [number, number];

/** Signed area (shoelace), positive when the polygon runs counter-clockwise. */
export function signedArea(poly: readonly Point2[]): number {
  let s = 0;
  for (let i = 0, n = poly.length; i < n; i++) {
    const [x1, y1] = poly[i];
    const [x2, y2] = poly[(i + 1) % n];
    s += x1 * y2 - x2 * y1;
  }
  return s / 2;
}

/**
 * A footprint as the extrusion needs it: no repeated closing point, no
 * repeated or collinear consecutive points, counter-clockwise. Model files
 * may be written either way round and closed or not (contract §4 says
 * "closed polygon" of at least 3 points); both must draw the same building.
 */
export function cleanFootprint(poly: readonly Point2[]): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (const p of poly) {
    const last = pts[pts.length - 1];
    if (!last || Math.abs(last[0] - p[0]) > 1e-9 || Math.abs(last[1] - p[1]) > 1e-9) pts.push([p[0], p[1]]);
  }
  while (pts.length > 1 && Math.abs(pts[0][0] - pts[pts.length - 1][0]) <= 1e-9 && Math.abs(pts[0][1] - pts[pts.length - 1][1]) <= 1e-9) pts.pop();
  // Drop collinear points: they would make zero-width walls.
  for (let i = 0; pts.length >= 3 && i < pts.length; ) {
    const a = pts[(i + pts.length - 1) % pts.length];
    const b = pts[i];
    const c = pts[(i + 1) % pts.length];
    const cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
    const scale = Math.hypot(b[0] - a[0], b[1] - a[1]) * Math.hypot(c[0] - b[0], c[1] - b[1]);
    if (Math.abs(cross) <= 1e-9 * Math.max(scale, 1e-12)) pts.splice(i, 1);
    else i++;
  }
  if (signedArea(pts) < 0) pts.reverse();
  return pts;
}

function cross3(a: Point2, b: Point2, c: Point2): number {
  return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
}

function inTriangle(p: Point2, a: Point2, b: Point2, c: Point2): boolean {
  // Counter-clockwise triangle: p is inside or on an edge when it is left of (or on) all three edges.
  const d1 = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  const d2 = (c[0] - b[0]) * (p[1] - b[1]) - (c[1] - b[1]) * (p[0] - b[0]);
  const d3 = (a[0] - c[0]) * (p[1] - c[1]) - (a[1] - c[1]) * (p[0] - c[0]);
  return d1 >= 0 && d2 >= 0 && d3 >= 0;
}

/**
 * Ear-clipping triangulation of a simple counter-clockwise polygon (concave
 * allowed, e.g. the L-shaped buildings of the demo park). Returns vertex
 * indices, three per triangle, counter-clockwise. A self-intersecting
 * footprint (a bad survey, not worth refusing to draw) falls back to a fan
 * over what is left.
 */
export function triangulate(poly: readonly Point2[]): number[] {
  const out: number[] = [];
  const idx = poly.map((_, i) => i);
  let guard = poly.length * poly.length + 10;
  while (idx.length > 3 && guard-- > 0) {
    let clipped = false;
    for (let k = 0; k < idx.length; k++) {
      const ia = idx[(k + idx.length - 1) % idx.length];
      const ib = idx[k];
      const ic = idx[(k + 1) % idx.length];
      const a = poly[ia];
      const b = poly[ib];
      const c = poly[ic];
      if (cross3(a, b, c) <= 0) continue; // reflex or flat corner: not an ear
      let blocked = false;
      for (const j of idx) {
        if (j === ia || j === ib || j === ic) continue;
        const p = poly[j];
        if ((p[0] === a[0] && p[1] === a[1]) || (p[0] === b[0] && p[1] === b[1]) || (p[0] === c[0] && p[1] === c[1])) continue;
        if (inTriangle(p, a, b, c)) {
          blocked = true;
          break;
        }
      }
      if (blocked) continue;
      out.push(ia, ib, ic);
      idx.splice(k, 1);
      clipped = true;
      break;
    }
    if (!clipped) break;
  }
  for (let k = 1; k + 1 < idx.length; k++) out.push(idx[0], idx[k], idx[k + 1]);
  return out;
}

/** Even-odd point-in-polygon test. */
export function pointInPolygon(p: Point2, poly: readonly Point2[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Points well inside a footprint, best first: the area centroid when it lies
 * inside, then the centroids of the roof triangles, largest first. The first
 * is where a building's label and test probe sit; the others are fallbacks
 * when the first is hidden behind another building.
 */
export function interiorPoints(poly: readonly Point2[], tris: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const area = signedArea(poly);
  if (Math.abs(area) > 1e-9) {
    let cx = 0;
    let cy = 0;
    for (let i = 0; i < poly.length; i++) {
      const [x1, y1] = poly[i];
      const [x2, y2] = poly[(i + 1) % poly.length];
      const f = x1 * y2 - x2 * y1;
      cx += (x1 + x2) * f;
      cy += (y1 + y2) * f;
    }
    const c: [number, number] = [cx / (6 * area), cy / (6 * area)];
    if (pointInPolygon(c, poly)) out.push(c);
  }
  const byArea: Array<{ a: number; c: [number, number] }> = [];
  for (let t = 0; t + 2 < tris.length; t += 3) {
    const a = poly[tris[t]];
    const b = poly[tris[t + 1]];
    const c = poly[tris[t + 2]];
    byArea.push({ a: Math.abs(cross3(a, b, c)), c: [(a[0] + b[0] + c[0]) / 3, (a[1] + b[1] + c[1]) / 3] });
  }
  byArea.sort((x, y) => y.a - x.a);
  for (const t of byArea) out.push(t.c);
  if (out.length === 0 && poly.length > 0) out.push([poly[0][0], poly[0][1]]);
  return out;
}

/** Axis-aligned bounds in the park frame. */
export interface ParkBounds {
  minE: number;
  minN: number;
  maxE: number;
  maxN: number;
  maxHeight: number;
}

/** Bounds of the buildings (what the overview must show); a zero box at the origin for an empty park. */
export function buildingBounds(model: Pick<ParkModel, 'buildings'>): ParkBounds {
  const b: ParkBounds = { minE: Infinity, minN: Infinity, maxE: -Infinity, maxN: -Infinity, maxHeight: 0 };
  for (const bd of model.buildings) {
    for (const [e, n] of bd.footprint) {
      b.minE = Math.min(b.minE, e);
      b.maxE = Math.max(b.maxE, e);
      b.minN = Math.min(b.minN, n);
      b.maxN = Math.max(b.maxN, n);
    }
    b.maxHeight = Math.max(b.maxHeight, bd.height);
  }
  if (!Number.isFinite(b.minE)) return { minE: 0, minN: 0, maxE: 0, maxN: 0, maxHeight: 0 };
  return b;
}

/**
 * The park's land: its boundary when the model has one, else the buildings'
 * bounding box grown by a margin (10 % of the larger side, at least 20 m) so
 * the outermost buildings do not stand on the edge.
 */
export function landPolygon(model: Pick<ParkModel, 'buildings' | 'boundary'>): Array<[number, number]> {
  if (model.boundary && model.boundary.length >= 3) {
    const clean = cleanFootprint(model.boundary);
    if (clean.length >= 3) return clean;
  }
  const b = buildingBounds(model);
  const m = Math.max(20, 0.1 * Math.max(b.maxE - b.minE, b.maxN - b.minN));
  return [
    [b.minE - m, b.minN - m],
    [b.maxE + m, b.minN - m],
    [b.maxE + m, b.maxN + m],
    [b.minE - m, b.maxN + m],
  ];
}

/** Where the camera goes for the overview. */
export interface Framing {
  target: [number, number, number];
  position: [number, number, number];
  /** Distance from target to camera. */
  distance: number;
  near: number;
  far: number;
}

/** A scene-space box. */
export interface Box3 {
  min: [number, number, number];
  max: [number, number, number];
}

/**
 * Camera placement that shows the whole box: looking at the box centre from
 * `azimuthDeg` (0 = from the south, positive = from the east) and
 * `elevationDeg` above the horizon, at the smallest distance where every
 * corner is inside a perspective view of vertical field `fovDeg` and the
 * given aspect, plus `margin` (0.1 = 10 % more distance).
 */
export function frameBox(box: Box3, fovDeg: number, aspect: number, opts: { azimuthDeg?: number; elevationDeg?: number; margin?: number } = {}): Framing {
  const az = ((opts.azimuthDeg ?? 20) * Math.PI) / 180;
  const el = ((opts.elevationDeg ?? 42) * Math.PI) / 180;
  const margin = opts.margin ?? 0.08;
  const target: [number, number, number] = [(box.min[0] + box.max[0]) / 2, (box.min[1] + box.max[1]) / 2, (box.min[2] + box.max[2]) / 2];
  // d: unit vector from target to camera; right and up: the camera's axes.
  const d = [Math.sin(az) * Math.cos(el), Math.sin(el), Math.cos(az) * Math.cos(el)];
  const rl = Math.hypot(d[2], d[0]);
  const right = [d[2] / rl, 0, -d[0] / rl];
  const up = [d[1] * right[2] - d[2] * right[1], d[2] * right[0] - d[0] * right[2], d[0] * right[1] - d[1] * right[0]];
  const tanV = Math.tan(((fovDeg * Math.PI) / 180) / 2);
  const tanH = tanV * Math.max(aspect, 1e-3);
  let dist = 1;
  for (let i = 0; i < 8; i++) {
    const q = [(i & 1 ? box.max[0] : box.min[0]) - target[0], (i & 2 ? box.max[1] : box.min[1]) - target[1], (i & 4 ? box.max[2] : box.min[2]) - target[2]];
    const x = q[0] * right[0] + q[1] * right[1] + q[2] * right[2];
    const y = q[0] * up[0] + q[1] * up[1] + q[2] * up[2];
    const z = q[0] * d[0] + q[1] * d[1] + q[2] * d[2];
    dist = Math.max(dist, z + Math.abs(x) / tanH, z + Math.abs(y) / tanV);
  }
  dist *= 1 + margin;
  const size = Math.hypot(box.max[0] - box.min[0], box.max[1] - box.min[1], box.max[2] - box.min[2]);
  return {
    target,
    position: [target[0] + d[0] * dist, target[1] + d[1] * dist, target[2] + d[2] * dist],
    distance: dist,
    near: Math.max(0.5, dist / 500),
    far: dist * 4 + size * 4,
  };
}

/** Per-building data the scene keeps for picking, labels and probes. */
export interface BuildingSlot {
  id: string;
  name: string;
  /** First vertex of the building in the face buffers, and how many. */
  vertexStart: number;
  vertexCount: number;
  /** Scene-space points on the roof, best first (see {@link interiorPoints}). */
  roofPoints: Array<[number, number, number]>;
}

/** Everything the scene uploads once. */
export interface ParkGeometry {
  /** Scene origin in the park frame (scene x = east - originE, z = -(north - originN)). */
  originE: number;
  originN: number;
  slots: BuildingSlot[];
  /** Faces: xyz per vertex. */
  positions: Float32Array;
  normals: Float32Array;
  /** Building index of each vertex (a float attribute; exact up to 2^24). */
  building: Float32Array;
  /** Floor height (height / floors) of each vertex's building, for the floor lines. */
  floorHeight: Float32Array;
  /** Triangle list into the face buffers. */
  index: Uint32Array;
  /** Roof outlines and corner edges as line segments. */
  edgePositions: Float32Array;
  edgeBuilding: Float32Array;
  /** Ground pads under each building (footprint bounding rectangle grown by a few metres), for the alarm halo. */
  padPositions: Float32Array;
  padBuilding: Float32Array;
  padIndex: Uint32Array;
  /** Land polygon at y = 0: positions and triangles. */
  landPositions: Float32Array;
  landIndex: Uint32Array;
  /** Scene-space box of the buildings (y from 0 to the tallest roof). */
  buildingBox: Box3;
  /** Scene-space box of the land. */
  landBox: Box3;
}

/**
 * Extrudes every building of the model into one set of buffers. Vertex
 * layout per building: for each footprint edge a wall quad (4 vertices, flat
 * outward normal), then the roof polygon (one vertex per corner, normal up).
 * A building whose footprint collapses (fewer than 3 distinct points) keeps
 * its slot with no vertices, so building indices always match the model.
 */
export function buildParkGeometry(model: Pick<ParkModel, 'buildings' | 'boundary'>): ParkGeometry {
  const bb = buildingBounds(model);
  const originE = (bb.minE + bb.maxE) / 2;
  const originN = (bb.minN + bb.maxN) / 2;
  const sx = (e: number) => e - originE;
  const sz = (n: number) => originN - n;

  const cleaned = model.buildings.map((b) => cleanFootprint(b.footprint));
  const roofs = cleaned.map((p) => (p.length >= 3 ? triangulate(p) : []));
  let vCount = 0;
  let iCount = 0;
  let eCount = 0;
  cleaned.forEach((p, i) => {
    if (p.length < 3) return;
    vCount += p.length * 4 + p.length;
    iCount += p.length * 6 + roofs[i].length;
    eCount += p.length * 2;
  });

  const positions = new Float32Array(vCount * 3);
  const normals = new Float32Array(vCount * 3);
  const building = new Float32Array(vCount);
  const floorHeight = new Float32Array(vCount);
  const index = new Uint32Array(iCount);
  const edgePositions = new Float32Array(eCount * 2 * 3);
  const edgeBuilding = new Float32Array(eCount * 2);
  const nB = model.buildings.length;
  const padPositions = new Float32Array(nB * 4 * 3);
  const padBuilding = new Float32Array(nB * 4);
  const padIndex = new Uint32Array(nB * 6);
  const slots: BuildingSlot[] = [];

  let v = 0;
  let ii = 0;
  let ev = 0;
  const put = (x: number, y: number, z: number, nx: number, ny: number, nz: number, bi: number, fh: number) => {
    positions[v * 3] = x;
    positions[v * 3 + 1] = y;
    positions[v * 3 + 2] = z;
    normals[v * 3] = nx;
    normals[v * 3 + 1] = ny;
    normals[v * 3 + 2] = nz;
    building[v] = bi;
    floorHeight[v] = fh;
    return v++;
  };
  const putEdge = (x1: number, y1: number, z1: number, x2: number, y2: number, z2: number, bi: number) => {
    edgePositions.set([x1, y1, z1, x2, y2, z2], ev * 3);
    edgeBuilding[ev] = bi;
    edgeBuilding[ev + 1] = bi;
    ev += 2;
  };

  model.buildings.forEach((b, bi) => {
    const poly = cleaned[bi];
    const h = Math.max(0.1, b.height);
    const fh = h / Math.max(1, Math.round(b.floors));
    const start = v;
    let minE = Infinity;
    let maxE = -Infinity;
    let minN = Infinity;
    let maxN = -Infinity;
    for (const [e, n] of b.footprint) {
      minE = Math.min(minE, e);
      maxE = Math.max(maxE, e);
      minN = Math.min(minN, n);
      maxN = Math.max(maxN, n);
    }
    if (poly.length >= 3) {
      for (let k = 0; k < poly.length; k++) {
        const [e1, n1] = poly[k];
        const [e2, n2] = poly[(k + 1) % poly.length];
        // Counter-clockwise footprint: the outside is to the right of a→b,
        // i.e. (dn, -de) in the park frame, (dn, 0, de) in the scene frame.
        const len = Math.hypot(e2 - e1, n2 - n1) || 1;
        const nx = (n2 - n1) / len;
        const nz = (e2 - e1) / len;
        const a0 = put(sx(e1), 0, sz(n1), nx, 0, nz, bi, fh);
        const b0 = put(sx(e2), 0, sz(n2), nx, 0, nz, bi, fh);
        const b1 = put(sx(e2), h, sz(n2), nx, 0, nz, bi, fh);
        const a1 = put(sx(e1), h, sz(n1), nx, 0, nz, bi, fh);
        index.set([a0, b0, b1, a0, b1, a1], ii);
        ii += 6;
        putEdge(sx(e1), h, sz(n1), sx(e2), h, sz(n2), bi);
        putEdge(sx(e1), 0, sz(n1), sx(e1), h, sz(n1), bi);
      }
      const roofStart = v;
      for (const [e, n] of poly) put(sx(e), h, sz(n), 0, 1, 0, bi, fh);
      for (const t of roofs[bi]) index[ii++] = roofStart + t;
    }
    const pts = poly.length >= 3 ? interiorPoints(poly, roofs[bi]) : [[b.footprint[0]?.[0] ?? 0, b.footprint[0]?.[1] ?? 0] as [number, number]];
    slots.push({
      id: b.id,
      name: b.name,
      vertexStart: start,
      vertexCount: v - start,
      roofPoints: pts.map(([e, n]) => [sx(e), h, sz(n)] as [number, number, number]),
    });
    // Halo pad: the footprint's bounding rectangle grown by 4 m plus 5 % of its size.
    const grow = 4 + 0.05 * Math.max(maxE - minE, maxN - minN);
    const corners: Array<[number, number]> = [
      [minE - grow, minN - grow],
      [maxE + grow, minN - grow],
      [maxE + grow, maxN + grow],
      [minE - grow, maxN + grow],
    ];
    corners.forEach(([e, n], k) => {
      padPositions.set([sx(e), 0.15, sz(n)], (bi * 4 + k) * 3);
      padBuilding[bi * 4 + k] = bi;
    });
    padIndex.set([bi * 4, bi * 4 + 1, bi * 4 + 2, bi * 4, bi * 4 + 2, bi * 4 + 3], bi * 6);
  });

  const land = landPolygon(model);
  const landTris = triangulate(land);
  const landPositions = new Float32Array(land.length * 3);
  land.forEach(([e, n], k) => landPositions.set([sx(e), 0, sz(n)], k * 3));
  let lminE = Infinity;
  let lmaxE = -Infinity;
  let lminN = Infinity;
  let lmaxN = -Infinity;
  for (const [e, n] of land) {
    lminE = Math.min(lminE, e);
    lmaxE = Math.max(lmaxE, e);
    lminN = Math.min(lminN, n);
    lmaxN = Math.max(lmaxN, n);
  }

  return {
    originE,
    originN,
    slots,
    positions,
    normals,
    building,
    floorHeight,
    index: index.subarray(0, ii),
    edgePositions,
    edgeBuilding,
    padPositions,
    padBuilding,
    padIndex,
    landPositions,
    landIndex: Uint32Array.from(landTris),
    buildingBox: { min: [sx(bb.minE), 0, sz(bb.maxN)], max: [sx(bb.maxE), bb.maxHeight, sz(bb.minN)] },
    landBox: { min: [sx(lminE), 0, sz(lmaxN)], max: [sx(lmaxE), 0, sz(lminN)] },
  };
}
