// Lint is part of `npm test`: TypeScript's recommended rules, with `any`
// forbidden so no untyped value crosses a module boundary.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/**", ".next/**", "build/**", "server/db/generated/**", "server/db/generated-postgres/**", "next-env.d.ts", "test-results/**", "playwright-report/**", "data/**", "uploads/**", ".bench/**"],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // The stores are asynchronous (SQLite and PostgreSQL behind one
    // interface): a store call whose promise nobody awaits is a write that
    // may land after the answer, or an error nobody hears of.
    files: ["server/**/*.ts", "tests/**/*.ts", "app/**/*.ts", "app/**/*.tsx"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
);
