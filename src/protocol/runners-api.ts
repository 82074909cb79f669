import { decodeJson, NetworkError, type HttpClient } from "./http-client.ts";
import { errorMessage } from "./jobs-api.ts";
import type { RunnerInfo } from "./runner-info.ts";

/** What GitLab answered about a runner token. */
export type TokenResult =
  | { readonly kind: "ok"; readonly id?: number; readonly token: string; readonly tokenExpiresAt?: string | null }
  | { readonly kind: "forbidden"; readonly message: string }
  | { readonly kind: "failed"; readonly message: string };

/** Whether a token is a runner authentication token (created in GitLab), not a registration token. */
export function isRunnerAuthenticationToken(token: string): boolean {
  return token.startsWith("glrt-");
}

/** `POST /api/v4/runners/verify` (docs/protocol.md §2.3): is this runner token valid? Sends the full `info`. */
export async function verifyRunner(
  client: HttpClient,
  request: { token: string; info: RunnerInfo; systemId?: string },
): Promise<TokenResult> {
  return tokenCall(client, {
    method: "POST", path: "runners/verify", endpoint: "verify_runner",
    headers: { "RUNNER-TOKEN": request.token },
    json: { info: request.info, token: request.token, ...(request.systemId ? { system_id: request.systemId } : {}) },
  }, 200, request.token);
}

/** Settings a legacy registration sends (docs/protocol.md §2.1). */
export interface RegistrationParameters {
  readonly description?: string;
  readonly tagList?: readonly string[];
  readonly runUntagged: boolean;
  readonly locked: boolean;
  readonly paused: boolean;
  readonly accessLevel?: "not_protected" | "ref_protected";
  readonly maximumTimeout?: number;
  readonly maintenanceNote?: string;
}

/** `POST /api/v4/runners` with a (deprecated) registration token (docs/protocol.md §2.1). */
export async function registerRunner(
  client: HttpClient,
  request: { registrationToken: string; info: RunnerInfo; parameters: RegistrationParameters },
): Promise<TokenResult> {
  const p = request.parameters;
  return tokenCall(client, {
    method: "POST", path: "runners", endpoint: "register_runner",
    headers: { "RUNNER-TOKEN": request.registrationToken },
    json: {
      ...(p.description ? { description: p.description } : {}),
      ...(p.maintenanceNote ? { maintenance_note: p.maintenanceNote } : {}),
      ...(p.tagList && p.tagList.length > 0 ? { tag_list: p.tagList.join(",") } : {}),
      run_untagged: p.runUntagged,
      locked: p.locked,
      ...(p.accessLevel ? { access_level: p.accessLevel } : {}),
      ...(p.maximumTimeout ? { maximum_timeout: p.maximumTimeout } : {}),
      paused: p.paused,
      info: request.info,
      token: request.registrationToken,
    },
  }, 201);
}

/**
 * `POST /api/v4/runners/reset_authentication_token` (docs/protocol.md §2.5): a new token for this runner, the old
 * one no longer valid. GitLab answers 201 (GitLab Runner's resetToken expects exactly that).
 */
export async function resetRunnerToken(client: HttpClient, request: { token: string }): Promise<TokenResult> {
  return tokenCall(client, {
    method: "POST", path: "runners/reset_authentication_token", endpoint: "reset_token",
    headers: { "RUNNER-TOKEN": request.token },
    json: { token: request.token },
  }, 201);
}

/** `DELETE /api/v4/runners` (legacy) or `DELETE /api/v4/runners/managers` (with a system id) (docs/protocol.md §2.4). */
export async function unregisterRunner(
  client: HttpClient,
  request: { token: string; systemId?: string },
): Promise<{ kind: "ok" } | { kind: "failed"; message: string }> {
  try {
    const response = await client.send({
      method: "DELETE", path: request.systemId ? "runners/managers" : "runners", endpoint: "unregister_runner",
      headers: { "RUNNER-TOKEN": request.token },
      json: { token: request.token, ...(request.systemId ? { system_id: request.systemId } : {}) },
    });
    return response.status === 204 ? { kind: "ok" } : { kind: "failed", message: errorMessage(response) };
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "failed", message: error.message };
    throw error;
  }
}

async function tokenCall(
  client: HttpClient,
  request: Parameters<HttpClient["send"]>[0],
  expected: number,
  fallbackToken?: string,
): Promise<TokenResult> {
  try {
    const response = await client.send({ ...request, expectJson: true });
    if (response.status === 403) return { kind: "forbidden", message: errorMessage(response) };
    if (response.status !== expected) return { kind: "failed", message: errorMessage(response) };
    // Older GitLab answers verify with a plain `200`, not JSON: the token stays the one we have.
    const body = decodeJson(response) as { id?: number; token?: string; token_expires_at?: string | null } | undefined;
    const token = body?.token ?? fallbackToken;
    if (!token) return { kind: "failed", message: "GitLab did not answer with a token" };
    return {
      kind: "ok", token,
      ...(body?.id !== undefined ? { id: body.id } : {}),
      ...(body?.token_expires_at !== undefined ? { tokenExpiresAt: body.token_expires_at } : {}),
    };
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "failed", message: error.message };
    throw error;
  }
}
