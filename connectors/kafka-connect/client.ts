import { ConfigError, SourceUnavailableError } from '../../core/errors.js';

/**
 * Settings of the Kafka Connect REST client: the worker's base URL, and a
 * `fetch` to use (tests pass a fake).
 */
export type ConnectClientConfig = {
  readonly url: string;
  readonly fetch?: typeof fetch;
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
};

/** A connector's or task's state as Kafka Connect reports it. */
export type ConnectState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

/** `GET /connectors/{name}/status`. `trace` is the Java stack trace of a failed connector or task. */
export type ConnectorStatus = {
  readonly name: string;
  readonly connector: { readonly state: ConnectState; readonly worker_id?: string; readonly trace?: string };
  readonly tasks: readonly {
    readonly id: number;
    readonly state: ConnectState;
    readonly worker_id?: string;
    readonly trace?: string;
  }[];
  readonly type?: string;
};

/** What `apply` did: PUT answered 201 (created) or 200 (updated), or nothing differed and nothing was sent. */
export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

/**
 * A Kafka Connect REST API client. Every method throws a
 * `SourceUnavailableError` (retriable) when the worker cannot be reached or
 * answers 5xx or 409 (a rebalance in progress), and a `ConfigError` when it
 * rejects the request with another 4xx; both messages name the method, the
 * URL, the HTTP status and Connect's error message.
 *
 * @see https://kafka.apache.org/documentation/#connect_rest
 */
export type ConnectClient = {
  readonly url: string;
  /** The connector's config (without Connect's own `name` entry), or undefined when no such connector exists. */
  getConfig(name: string): Promise<Record<string, string> | undefined>;
  /** Idempotent `PUT /connectors/{name}/config`: skipped when the stored config already equals `config`. */
  apply(name: string, config: Readonly<Record<string, string>>): Promise<ApplyOutcome>;
  /** `GET /connectors/{name}/status`; a `ConfigError` when the connector does not exist. */
  status(name: string): Promise<ConnectorStatus>;
  /** `POST /connectors/{name}/restart?includeTasks=true&onlyFailed=…`, restarting the connector and its (failed) tasks. */
  restart(name: string, options?: { readonly onlyFailed?: boolean }): Promise<void>;
  /** `POST /connectors/{name}/tasks/{id}/restart`. */
  restartTask(name: string, task: number): Promise<void>;
  /** `DELETE /connectors/{name}`; false when there was no such connector. */
  remove(name: string): Promise<boolean>;
};

const DEFAULT_TIMEOUT_MS = 10_000;

export function createConnectClient(config: ConnectClientConfig): ConnectClient {
  const base = config.url.replace(/\/+$/, '');
  const doFetch = config.fetch ?? fetch;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** One request; `accept` lists statuses that are answers rather than errors (e.g. 404 for "absent"). */
  async function request(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
  ): Promise<{ status: number; json: unknown }> {
    const url = `${base}${path}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error: unknown) {
      throw new SourceUnavailableError(
        `Kafka Connect at ${base} is unreachable: ${method} ${url} failed: ${describeCause(error)}`,
        { cause: error },
      );
    }
    const text = await response.text().catch(() => '');
    if (!response.ok && !accept.includes(response.status)) {
      const message = `Kafka Connect ${method} ${url} answered ${response.status}: ${connectMessage(text)}`;
      if (response.status >= 500 || response.status === 409) throw new SourceUnavailableError(message);
      throw new ConfigError(message);
    }
    let json: unknown = undefined;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
    }
    return { status: response.status, json };
  }

  const connectorPath = (name: string) => `/connectors/${encodeURIComponent(name)}`;

  const client: ConnectClient = {
    url: base,

    async getConfig(name) {
      const { status, json } = await request('GET', `${connectorPath(name)}/config`, undefined, [404]);
      if (status === 404) return undefined;
      const { name: _name, ...rest } = json as Record<string, string>;
      return rest;
    },

    async apply(name, wanted) {
      const current = await client.getConfig(name);
      if (current !== undefined && sameConfig(current, { ...wanted })) return 'unchanged';
      const { status } = await request('PUT', `${connectorPath(name)}/config`, wanted);
      return status === 201 ? 'created' : 'updated';
    },

    async status(name) {
      return (await request('GET', `${connectorPath(name)}/status`)).json as ConnectorStatus;
    },

    async restart(name, options = {}) {
      const onlyFailed = options.onlyFailed ?? true;
      await request('POST', `${connectorPath(name)}/restart?includeTasks=true&onlyFailed=${String(onlyFailed)}`);
    },

    async restartTask(name, task) {
      await request('POST', `${connectorPath(name)}/tasks/${task}/restart`);
    },

    async remove(name) {
      const { status } = await request('DELETE', connectorPath(name), undefined, [404]);
      return status !== 404;
    },
  };
  return client;
}

/** Equal key sets with equal values; Connect stores every value as a string. */
function sameConfig(current: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(wanted).filter((key) => key !== 'name');
  return (
    Object.keys(current).filter((key) => key !== 'name').length === keys.length &&
    keys.every((key) => current[key] === wanted[key])
  );
}

/** Connect's `{"error_code":…,"message":…}`, or the raw body. */
function connectMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: a proxy's HTML page or plain text.
  }
  return text === '' ? '(empty body)' : text.slice(0, 2000);
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
