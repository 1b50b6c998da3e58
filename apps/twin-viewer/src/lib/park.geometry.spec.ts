import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParkModel } from '@park/telemetry';
import { testPark } from '@park/telemetry/testing';
import {
  buildingBounds,
  buildParkGeometry,
  cleanFootprint,
  frameBox,
  interiorPoints,
  landPolygon,
  pointInPolygon,
  signedArea,
  triangulate,
  type Point2,
} from './park.geometry';

const demo = JSON.parse(readFileSync(join(__dirname, '../../../gateway/parks/demo.park.json'), 'utf8')) as ParkModel;

function triangleArea(poly: readonly Point2[], tris: number[]): number {
  let s = 0;
  for (let t = 0; t < tris.length; t += 3) s += signedArea([poly[tris[t]], poly[tris[t + 1]], poly[tris[t + 2]]]);
  return s;
}

const L: Point2[] = [[240, 0], [320, 0], [320, 30], [280, 30], [280, 60], [240, 60]];

describe('footprints', () => {
  it('drops the closing point, duplicates and collinear points, and turns clockwise input round', () => {
    const cw: Point2[] = [[0, 0], [0, 10], [5, 10], [10, 10], [10, 0], [10, 0], [0, 0]];
    const clean = cleanFootprint(cw);
    expect(clean).toHaveLength(4);
    expect(signedArea(clean)).toBeCloseTo(100);
  });

  it('triangulates a concave (L-shaped) footprint exactly, every triangle counter-clockwise', () => {
    const poly = cleanFootprint(L);
    const tris = triangulate(poly);
    expect(tris).toHaveLength((poly.length - 2) * 3);
    expect(triangleArea(poly, tris)).toBeCloseTo(signedArea(poly));
    for (let t = 0; t < tris.length; t += 3) expect(signedArea([poly[tris[t]], poly[tris[t + 1]], poly[tris[t + 2]]])).toBeGreaterThan(0);
    // No triangle covers the notch of the L.
    for (let t = 0; t < tris.length; t += 3) {
      const c: Point2 = [(poly[tris[t]][0] + poly[tris[t + 1]][0] + poly[tris[t + 2]][0]) / 3, (poly[tris[t]][1] + poly[tris[t + 1]][1] + poly[tris[t + 2]][1]) / 3];
      expect(pointInPolygon(c, poly)).toBe(true);
    }
  });

  it('triangulates any star-shaped polygon with the right total area', () => {
    // Random radii around a centre: simple, often concave polygons.
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 3, maxLength: 24 }), (radii) => {
        const poly: Point2[] = radii.map((r, i) => [r * Math.cos((2 * Math.PI * i) / radii.length), r * Math.sin((2 * Math.PI * i) / radii.length)]);
        const clean = cleanFootprint(poly);
        const tris = triangulate(clean);
        expect(Math.abs(triangleArea(clean, tris) - signedArea(clean))).toBeLessThan(1e-6 * Math.max(1, signedArea(clean)));
      }),
    );
  });

  it('puts the first interior point inside the footprint, even when the centroid is not', () => {
    const C: Point2[] = [[0, 0], [30, 0], [30, 5], [5, 5], [5, 25], [30, 25], [30, 30], [0, 30]];
    const poly = cleanFootprint(C);
    const pts = interiorPoints(poly, triangulate(poly));
    expect(pts.length).toBeGreaterThan(1);
    for (const p of pts) expect(pointInPolygon(p, poly)).toBe(true);
    const square = cleanFootprint([[0, 0], [60, 0], [60, 40], [0, 40]]);
    expect(interiorPoints(square, triangulate(square))[0]).toEqual([30, 20]);
  });
});

describe('park geometry', () => {
  it('extrudes every demo building into one buffer with one slot per building', () => {
    const g = buildParkGeometry(demo);
    expect(g.slots.map((s) => s.id)).toEqual(demo.buildings.map((b) => b.id));
    const vertices = g.positions.length / 3;
    expect(g.normals.length / 3).toBe(vertices);
    expect(g.building.length).toBe(vertices);
    expect(g.slots.reduce((n, s) => n + s.vertexCount, 0)).toBe(vertices);
    for (const [i, s] of g.slots.entries()) {
      for (let v = s.vertexStart; v < s.vertexStart + s.vertexCount; v++) expect(g.building[v]).toBe(i);
      const b = demo.buildings[i];
      expect(g.floorHeight[s.vertexStart]).toBeCloseTo(b.height / b.floors);
      expect(s.roofPoints[0][1]).toBe(b.height);
    }
    expect(Math.max(...g.index)).toBeLessThan(vertices);
  });

  it('winds every face so its geometric normal is the stored (outward or up) normal', () => {
    const g = buildParkGeometry(demo);
    const p = (i: number) => [g.positions[i * 3], g.positions[i * 3 + 1], g.positions[i * 3 + 2]];
    for (let t = 0; t < g.index.length; t += 3) {
      const [a, b, c] = [p(g.index[t]), p(g.index[t + 1]), p(g.index[t + 2])];
      const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
      const v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
      const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
      const i = g.index[t];
      const dot = n[0] * g.normals[i * 3] + n[1] * g.normals[i * 3 + 1] + n[2] * g.normals[i * 3 + 2];
      expect(dot).toBeGreaterThan(0);
    }
  });

  it('maps east to +x and north to -z, centred on the buildings', () => {
    const g = buildParkGeometry(testPark());
    // testPark spans east 0..80, north 0..20: origin (40, 10).
    expect([g.originE, g.originN]).toEqual([40, 10]);
    expect(g.buildingBox).toEqual({ min: [-40, 0, -10], max: [40, 20, 10] });
    // The office's roof centre: east 20, north 10 → x -20, z 0.
    expect(g.slots[0].roofPoints[0]).toEqual([-20, 20, 0]);
  });

  it('uses the model boundary as land, else the bounding box with a margin', () => {
    expect(landPolygon(demo)).toHaveLength(4);
    expect(signedArea(landPolygon(demo))).toBeCloseTo(1100 * 1100);
    const tp = testPark();
    expect(landPolygon(tp)).toEqual([[-20, -20], [100, -20], [100, 40], [-20, 40]]);
    expect(buildingBounds({ buildings: [] })).toEqual({ minE: 0, minN: 0, maxE: 0, maxN: 0, maxHeight: 0 });
  });

  it('keeps a slot (with no faces) for a degenerate footprint so indices match the model', () => {
    const park = testPark();
    park.buildings[0].footprint = [[0, 0], [10, 0], [20, 0]];
    const g = buildParkGeometry(park);
    expect(g.slots).toHaveLength(2);
    expect(g.slots[0].vertexCount).toBe(0);
    expect(g.slots[1].vertexCount).toBeGreaterThan(0);
  });
});

describe('framing', () => {
  const inView = (f: ReturnType<typeof frameBox>, p: number[], fovDeg: number, aspect: number) => {
    const d = [f.position[0] - f.target[0], f.position[1] - f.target[1], f.position[2] - f.target[2]].map((x) => x / f.distance);
    const rl = Math.hypot(d[0], d[2]);
    const right = [d[2] / rl, 0, -d[0] / rl];
    const up = [d[1] * right[2] - d[2] * right[1], d[2] * right[0] - d[0] * right[2], d[0] * right[1] - d[1] * right[0]];
    const q = [p[0] - f.position[0], p[1] - f.position[1], p[2] - f.position[2]];
    const depth = -(q[0] * d[0] + q[1] * d[1] + q[2] * d[2]);
    const x = (q[0] * right[0] + q[1] * right[1] + q[2] * right[2]) / depth;
    const y = (q[0] * up[0] + q[1] * up[1] + q[2] * up[2]) / depth;
    const tanV = Math.tan((fovDeg * Math.PI) / 360);
    return depth > f.near && depth < f.far && Math.abs(x) <= tanV * aspect + 1e-9 && Math.abs(y) <= tanV + 1e-9;
  };

  it.each([
    ['tiny park, wide screen', { min: [-10, 0, -5], max: [10, 8, 5] }, 16 / 9],
    ['demo-sized park', { min: [-395, 0, -242], max: [395, 96, 242] }, 16 / 9],
    ['long thin park, portrait', { min: [-3000, 0, -100], max: [3000, 40, 100] }, 9 / 16],
  ] as const)('keeps every corner of a %s in view, tightly', (_name, box, aspect) => {
    const f = frameBox({ min: [...box.min], max: [...box.max] }, 45, aspect);
    for (let i = 0; i < 8; i++) {
      const c = [i & 1 ? box.max[0] : box.min[0], i & 2 ? box.max[1] : box.min[1], i & 4 ? box.max[2] : box.min[2]];
      expect(inView(f, c, 45, aspect)).toBe(true);
    }
    // Tight: 20 % closer and some corner falls out.
    const closer = { ...f, position: f.position.map((p, k) => f.target[k] + (p - f.target[k]) * 0.8) as [number, number, number], distance: f.distance * 0.8 };
    const all = [...Array(8).keys()].every((i) =>
      inView(closer, [i & 1 ? box.max[0] : box.min[0], i & 2 ? box.max[1] : box.min[1], i & 4 ? box.max[2] : box.min[2]], 45, aspect),
    );
    expect(all).toBe(false);
    expect(f.position[1]).toBeGreaterThan(f.target[1]);
  });
});
