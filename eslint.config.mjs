import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency graph is the architecture (docs/architecture.md): telemetry
// depends on nothing of ours, metrics only on telemetry, apps on libs; the
// viewer never imports NestJS, the gateway never imports three.
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
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: [], bannedExternalImports: ['@nestjs/*', 'three', 'rxjs'] },
            { sourceTag: 'scope:metrics', onlyDependOnLibsWithTags: ['scope:telemetry'], bannedExternalImports: ['@nestjs/*', 'three', '@influxdata/*', 'mqtt', 'aedes', 'ws'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:metrics'], bannedExternalImports: ['three', 'three/*'] },
            { sourceTag: 'scope:viewer', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:metrics'], bannedExternalImports: ['@nestjs/*', 'aedes', 'mqtt', '@influxdata/*'] },
          ],
        },
      ],
    },
  },
];
