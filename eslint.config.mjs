import { builtinModules } from 'node:module';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency graph is the architecture (docs/architecture.md): telemetry
// depends on nothing of ours, metrics only on telemetry, apps on libs; the
// viewer never imports NestJS, the gateway never imports three; the park
// simulator is a lib (park model in, readings out, on telemetry only) and an
// app (command line, MQTT) that the gateway never imports.
const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default [
  { ignores: ['**/dist', '**/node_modules', '**/.data', '**/.nx', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js', '**/*.cjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'], bannedExternalImports: ['@influxdata/*', 'node:*', '@nestjs/*', 'three', 'aedes', 'mqtt', 'ws'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: [], bannedExternalImports: ['rxjs'] },
            { sourceTag: 'scope:metrics', onlyDependOnLibsWithTags: ['scope:telemetry'], bannedExternalImports: ['rxjs'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:metrics'], bannedExternalImports: ['three', 'three/*'] },
            { sourceTag: 'scope:park-sim', onlyDependOnLibsWithTags: ['scope:telemetry'], bannedExternalImports: ['rxjs'] },
            { sourceTag: 'scope:park-sim-app', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:park-sim'], bannedExternalImports: ['@nestjs/*', 'three', 'three/*', 'aedes', '@influxdata/*'] },
            { sourceTag: 'scope:viewer', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:metrics'], bannedExternalImports: ['@nestjs/*', 'aedes', 'mqtt', '@influxdata/*'] },
          ],
        },
      ],
    },
  },
  // The libs are pure (style.md §1, §3): no Node built-ins under any name, no
  // Node globals; what they need of the platform is the web's (TextDecoder,
  // Uint8Array), so the viewer can use them too.
  {
    files: ['libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: NODE_BUILTINS.map((name) => ({ name, message: 'libs are pure: no Node built-ins (docs/architecture.md)' })) }],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'libs are pure: use Uint8Array and TextDecoder' },
        { name: 'process', message: 'libs are pure: take what you need as an argument' },
        { name: 'require', message: 'libs are pure ES modules' },
      ],
    },
  },
  // libs/metrics has no clock of its own: time comes from reading timestamps
  // or the caller (`advance(nowMs)`), so live and recompute agree.
  {
    files: ['libs/metrics/src/**/*.ts'],
    ignores: ['libs/metrics/src/**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'libs/metrics is pure: time comes from readings or the caller' },
        { object: 'performance', property: 'now', message: 'libs/metrics is pure: time comes from readings or the caller' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'libs/metrics is pure: new Date() reads the clock; pass the time in' }],
    },
  },
  // libs/park-sim has no clock of its own either: its time is the simulated
  // clock the caller steps (`stepUntil`), so a seed and a start replay a run.
  {
    files: ['libs/park-sim/src/**/*.ts'],
    ignores: ['libs/park-sim/src/**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'libs/park-sim is pure: time comes from the caller (stepUntil)' },
        { object: 'performance', property: 'now', message: 'libs/park-sim is pure: time comes from the caller (stepUntil)' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'libs/park-sim is pure: new Date() reads the clock; pass the time in' }],
    },
  },
];
