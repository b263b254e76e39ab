import { RechunkerError, type ErrorCode } from '../errors.js';
import { readBody, type HttpResponse } from './http.js';

/**
 * Turn a registry's error answer into a one-line RechunkerError naming what was asked for and the
 * HTTP status, with the registry's own error code and message (distribution spec `errors` JSON)
 * when it gave one.
 */
const MAX_ERROR_BODY = 64 * 1024;

interface RegistryErrorBody {
  errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }>;
}

function oneLine(s: string, max = 200): string {
  const flat = s
    .replace(/[\r\n\t]+/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is stripped
    .replace(/[\x00-\x1f\x7f]/g, '')
    .trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

export async function registryErrorDetail(res: HttpResponse): Promise<{ code?: string; text: string }> {
  let body: Buffer;
  try {
    body = await readBody(res.body, MAX_ERROR_BODY);
  } catch {
    return { text: '' };
  }
  if (body.length === 0) return { text: '' };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as RegistryErrorBody;
    const first = parsed.errors?.[0];
    if (first) {
      const code = typeof first.code === 'string' ? first.code : undefined;
      const message = typeof first.message === 'string' ? first.message : '';
      return { ...(code ? { code } : {}), text: oneLine([code, message].filter(Boolean).join(': ')) };
    }
  } catch {
    // not JSON: fall through
  }
  const ct = String(res.headers['content-type'] ?? '');
  return { text: ct.startsWith('text/plain') ? oneLine(body.toString('utf8'), 120) : '' };
}

export function statusText(status: number, text: string): string {
  return `HTTP ${status}${text ? ' ' + text : ''}`;
}

/** `where`: `host/repo: blob sha256:…`; `action`: `upload failed`, `not found`, … */
export async function responseError(
  res: HttpResponse,
  where: string,
  action: string,
  extra = '',
): Promise<RechunkerError> {
  const detail = await registryErrorDetail(res);
  let code: ErrorCode = 'REGISTRY';
  if (res.status === 401 || res.status === 403) code = 'AUTH';
  else if (res.status === 404) code = 'NOT_FOUND';
  else if (detail.code === 'DIGEST_INVALID') code = 'DIGEST_MISMATCH';
  else if (detail.code === 'SIZE_INVALID') code = 'SIZE_MISMATCH';
  let hint = '';
  if (res.status === 401) hint = '; check --creds / --authfile';
  else if (res.status === 403) hint = '; access denied for these credentials';
  const reason = detail.text ? ` (${detail.text})` : '';
  return new RechunkerError(
    code,
    `${where}: ${action}: ${statusText(res.status, res.statusText)}${reason}${hint}${extra}`,
  );
}
