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
);
