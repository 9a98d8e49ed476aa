import { mergeConfig } from "vitest/config"
import shared from "__ROOT__/vitest.shared.js"

export default mergeConfig(shared, {})
