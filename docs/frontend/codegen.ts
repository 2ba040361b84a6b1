// TypeScript types and typed documents for front ends, generated from the schema the service prints
// (schema.graphql, checked against the served schema by a test) over the operations in ./operations.
// CI runs `npm run check`: a schema change that breaks these operations, or the typed code in ./src, fails.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  // BACKFLUSH_SCHEMA: CI points it at a deliberately broken schema once, to prove the check can fail.
  schema: process.env.BACKFLUSH_SCHEMA ?? "../../schema.graphql",
  documents: ["operations/*.graphql"],
  generates: {
    "generated/": {
      preset: "client",
      config: {
        // Every custom scalar must be mapped here: a new one fails the build instead of becoming `any`.
        strictScalars: true,
        // Quantities are exact decimals on the wire ("0.5202"); parse them with a decimal library, never Number().
        scalars: { Decimal: "string", DateTime: "string", Date: "string", JSON: "unknown" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
