// ESLint flat config: typescript-eslint's recommended-type-checked over the TypeScript sources (lib, nodes, test, scripts, bench).
// Run with `npm run lint`; part of `npm test` (build → lint → prettier --check → mocha), hence of CI. A rule is disabled
// only for one line, with its reason after `--` (test/unit/lint-gate.test.ts checks); see docs/development.md.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // JavaScript is build output or config, except the Function-node bodies of the flow builder (type-checked JS).
  { ignores: ["dist/**", "node_modules/**", "site/**", ".build/**", "**/*.js", "!scripts/flows/functions/*.js", "**/*.mjs", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `_`-prefixed parameters and destructured leftovers are deliberately unused (e.g. close handlers' `removed`).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // Passing a caught `unknown` on (`catch (err) { reject(err) }`) propagates an error, it does not invent a non-Error
      // reason; this matches only-throw-error, whose default already allows rethrowing unknown.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
    },
  },
  {
    // Function-node bodies: ES modules checked against scripts/flows/functions/tsconfig.json (JSDoc types, no Node globals).
    files: ["scripts/flows/functions/*.js"],
    languageOptions: {
      sourceType: "module",
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // mocha's describe/it callbacks use `this` (timeouts) and return promises by design.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-floating-promises": "off" },
  },
);
