/**
 * GLSL of the twin (three.js ShaderMaterial, compiled as GLSL ES 3.00).
 *
 * Per-building state lives in one RGBA8 texture, one texel per building:
 * rgb = the colour of the chosen scale (already sRGB: written as the scale's
 * hex, shown as is), a = alarm (0 none, 128 warn, 255 critical). Every
 * vertex carries its building index and fetches its texel, so recolouring
 * the park is O(buildings) bytes and one texture upload, whatever the number
 * of vertices.
 *
 * Roofs are lit at exactly 1.0 so a roof shows its scale colour unchanged
 * (the browser test reads it back); walls are shaded by orientation and get
 * one-pixel floor lines from the floor height.
 */

const STATE_FETCH = /* glsl */ `
uniform sampler2D uState;
uniform float uStateWidth;
uniform float uSelected;
uniform float uHovered;
flat varying vec3 vColour;
flat varying float vAlarm;
flat varying float vSelected;
flat varying float vHovered;

void fetchState(float building) {
  int i = int(building + 0.5);
  int w = int(uStateWidth);
  vec4 s = texelFetch(uState, ivec2(i % w, i / w), 0);
  vColour = s.rgb;
  vAlarm = s.a;
  vSelected = abs(building - uSelected) < 0.5 ? 1.0 : 0.0;
  vHovered = abs(building - uHovered) < 0.5 ? 1.0 : 0.0;
}
`;

const COMMON_FRAG = /* glsl */ `
uniform float uPulse;
uniform float uStale;
uniform vec3 uWarn;
uniform vec3 uCritical;
flat varying vec3 vColour;
flat varying float vAlarm;
flat varying float vSelected;
flat varying float vHovered;

vec3 alarmColour() { return vAlarm > 0.75 ? uCritical : uWarn; }

// Stale data is shown washed out: the colours no longer describe the present.
vec3 staleWash(vec3 c) {
  float l = dot(c, vec3(0.299, 0.587, 0.114));
  return mix(c, vec3(l * 0.8 + 0.1), 0.7 * uStale);
}
`;

export const BUILDING_VERTEX = /* glsl */ `
attribute float aBuilding;
attribute float aFloorHeight;
${STATE_FETCH}
varying vec3 vNormal;
varying float vHeight;
flat varying float vFloorHeight;

void main() {
  fetchState(aBuilding);
  vNormal = normal;
  vHeight = position.y;
  vFloorHeight = aFloorHeight;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
}
`;

export const BUILDING_FRAGMENT = /* glsl */ `
${COMMON_FRAG}
varying vec3 vNormal;
varying float vHeight;
flat varying float vFloorHeight;

void main() {
  vec3 c = vColour;
  vec3 n = normalize(vNormal);
  if (n.y < 0.5) {
    // Walls: lit from the south-east, darker towards the ground.
    float shade = 0.6 + 0.32 * max(dot(n.xz, normalize(vec2(0.55, 0.83))), 0.0);
    shade *= 0.84 + 0.16 * smoothstep(0.0, 15.0, vHeight);
    // Floor lines: one pixel wide at every floor boundary, fading out where
    // floors are too close on screen to tell apart.
    float f = vHeight / vFloorHeight;
    float fw = max(fwidth(f), 1e-4);
    float line = 1.0 - min(abs(fract(f - 0.5) - 0.5) / fw, 1.0);
    line *= 1.0 - smoothstep(0.2, 0.45, fw);
    line *= step(0.5, f);
    shade *= 1.0 - 0.38 * line;
    c *= shade;
  }
  if (vAlarm > 0.25) c = mix(c, alarmColour(), 0.5 * uPulse);
  c = mix(c, vec3(1.0), 0.18 * vHovered + 0.08 * vSelected);
  gl_FragColor = vec4(staleWash(c), 1.0);
}
`;

export const EDGE_VERTEX = /* glsl */ `
attribute float aBuilding;
${STATE_FETCH}
void main() {
  fetchState(aBuilding);
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
}
`;

export const EDGE_FRAGMENT = /* glsl */ `
${COMMON_FRAG}
void main() {
  vec3 c = vColour * 0.45;
  if (vAlarm > 0.25) c = mix(alarmColour(), vec3(1.0), 0.35 * uPulse);
  c = mix(c, vec3(1.0), max(vSelected * 0.9, vHovered * 0.6));
  gl_FragColor = vec4(staleWash(c), 1.0);
}
`;

/** The ground pad under a building: a pulsing glow while it has an alarm, a faint one while selected. */
export const PAD_VERTEX = /* glsl */ `
attribute float aBuilding;
${STATE_FETCH}
varying vec2 vUv;
void main() {
  fetchState(aBuilding);
  int k = gl_VertexID % 4;
  vUv = vec2(k == 1 || k == 2 ? 1.0 : 0.0, k >= 2 ? 1.0 : 0.0);
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
}
`;

export const PAD_FRAGMENT = /* glsl */ `
${COMMON_FRAG}
varying vec2 vUv;
void main() {
  float alarm = vAlarm > 0.25 ? 1.0 : 0.0;
  float strength = max(alarm * (0.35 + 0.45 * uPulse), vSelected * 0.35);
  if (strength <= 0.0) discard;
  // Soft-edged; the building itself covers the middle of the pad.
  vec2 d = min(vUv, 1.0 - vUv);
  float rim = smoothstep(0.0, 0.12, min(d.x, d.y));
  vec3 c = alarm > 0.5 ? alarmColour() : vec3(0.75, 0.88, 1.0);
  gl_FragColor = vec4(staleWash(c), strength * rim);
}
`;
