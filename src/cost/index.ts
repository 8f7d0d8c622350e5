export { costOf, priceFor, type RunCost, runCost } from "./cost.js";
export { type CostExtensionOptions, costExtension } from "./cost-extension.js";
export { DEFAULT_PRICING, definePricingTable, type ModelPrice, type PricingTable } from "./pricing-table.js";
