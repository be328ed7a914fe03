import {UsageError} from '../core/errors.js'

/** Catches the policy file mistakes CM would reject (or silently mis-handle) before any request. */
export function validatePolicyBody(body: Record<string, unknown>, file: string): void {
  if (typeof body.name !== 'string' || body.name === '') throw new UsageError('INVALID_VALUE', `${file}: "name" is required`)
  if (!Array.isArray(body.actions) || body.actions.length === 0 || body.actions.some((a) => typeof a !== 'string')) {
    throw new UsageError('INVALID_VALUE', `${file}: "actions" must be a non-empty list of action names, e.g. ["CreateKey","ReadKey"]`)
  }
  if (!Array.isArray(body.resources) || body.resources.some((r) => typeof r !== 'string')) {
    throw new UsageError('INVALID_VALUE', `${file}: "resources" must be a list of resource URI patterns, e.g. ["kylo:kylo:vault:secrets:*"]`)
  }
  const upper = (body.resources as string[]).find((r) => r !== r.toLowerCase())
  if (upper) throw new UsageError('INVALID_VALUE', `${file}: resource "${upper}" has upper-case letters; CM resource URIs are lower-case, so it would match nothing`)
}
