import {readFileSync} from 'node:fs'

/** User and group names for numeric ids, from /etc/passwd and /etc/group (no NSS lookups, no subprocess). */
export function userName(uid: number): string | undefined {
  return lookup('/etc/passwd', uid)
}

export function groupName(gid: number): string | undefined {
  return lookup('/etc/group', gid)
}

function lookup(file: string, id: number): string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    const [name, , idText] = line.split(':')
    if (name && idText !== undefined && Number(idText) === id) return name
  }
  return undefined
}

/** "0600" */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}
