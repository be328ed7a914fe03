/** Keylime's operational_state table (keylime/common/states.py). */
export const OPERATIONAL_STATES: Record<number, string> = {
  0: 'Registered',
  1: 'Start',
  2: 'Saved',
  3: 'Get Quote',
  4: 'Get Quote (retry)',
  5: 'Provide V',
  6: 'Provide V (retry)',
  7: 'Failed',
  8: 'Terminated',
  9: 'Invalid Quote',
  10: 'Tenant Quote Failed',
}

export function stateName(n: number): string {
  return OPERATIONAL_STATES[n] ?? `unknown (${n})`
}

/** The SPIRE Keylime plugin's rule: only Get Quote (3) and Get Quote (retry) (4) pass. */
export function passesPluginRule(n: number): boolean {
  return n === 3 || n === 4
}
