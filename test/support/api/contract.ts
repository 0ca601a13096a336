// The contract, checked on every response a test receives: the operation the request reached is looked up in
// the server's own /openapi.json, and the response must be one it documents (its status, its media type, and
// a body valid against its schema). A route that answers something else fails the test that called it.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';

const API_PREFIX = '/api/v1';
const DOCUMENT_ID = 'https://ascend.invalid/openapi.json';

interface MediaType {
  schema?: unknown;
}
interface ResponseDoc {
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseDoc>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
}

/** One received response, as the checker needs it. */
export interface Received {
  method: string;
  /** The URL's path (and query), as requested. */
  path: string;
  status: number;
  contentType: string | null;
  text: string;
}

// ajv-formats is CommonJS: under NodeNext its function is the namespace's `default`.
const addFormats = ajvFormats.default.default;

const escapePointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

export class Contract {
  private readonly ajv: Ajv2020;
  private readonly templates: { method: string; template: string; pattern: RegExp; params: number }[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    // strict off: the document holds OpenAPI keywords around its schemas (paths, responses, info, …).
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...document, $id: DOCUMENT_ID });
    for (const [template, item] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+').replaceAll('.', '\\.')}$`);
      for (const method of Object.keys(item)) {
        this.templates.push({ method: method.toUpperCase(), template, pattern, params: (template.match(/\{/g) ?? []).length });
      }
    }
    // A path that is all text wins over one with a parameter in its place (/slots/free before /slots/{id}).
    this.templates.sort((a, b) => a.params - b.params);
  }

  /** The documented operation a request reaches, if any (unknown routes are the not-found handler's). */
  operationOf(method: string, path: string): { template: string; operation: Operation } | undefined {
    const bare = path.split('?')[0] ?? '';
    if (!bare.startsWith(`${API_PREFIX}/`)) return undefined;
    const relative = bare.slice(API_PREFIX.length);
    const found = this.templates.find((t) => t.method === method.toUpperCase() && t.pattern.test(relative));
    const operation = found && this.document.paths[found.template]?.[found.method.toLowerCase()];
    return found && operation ? { template: found.template, operation } : undefined;
  }

  /** Throws, naming each violation, when the response breaks the contract of the operation it came from. */
  assert(received: Received): void {
    const violations = this.violations(received);
    if (violations.length) throw new Error(`The response breaks the API contract:\n${violations.join('\n')}\nbody: ${received.text.slice(0, 500)}`);
  }

  /** Every way the response breaks its operation's contract; none for a request outside the documented API. */
  violations(r: Received): string[] {
    const reached = this.operationOf(r.method, r.path);
    if (!reached) return [];
    const { template, operation } = reached;
    const where = `${r.method} ${r.path} (${operation.operationId}) answered ${r.status}`;
    const status = String(r.status);
    const documented = operation.responses[status] ?? operation.responses[`${status[0]}XX`];
    if (!documented) return [`${where}, a status its contract does not document (it documents ${Object.keys(operation.responses).join(', ')})`];
    if (!documented.content) return r.text === '' ? [] : [`${where} with a body, where its contract documents none`];
    const media = (r.contentType ?? '').split(';')[0]?.trim() ?? '';
    const content = documented.content[media];
    if (!content) return [`${where} as ${media || 'no content type'}, where its contract says ${Object.keys(documented.content).join(' or ')}`];
    let body: unknown = r.text;
    if (media.endsWith('json')) {
      try {
        body = JSON.parse(r.text);
      } catch {
        return [`${where} with a body that is not JSON: ${r.text.slice(0, 200)}`];
      }
    }
    const validate = this.validator(template, r.method, status in operation.responses ? status : `${status[0]}XX`, media);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(the body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  private validator(template: string, method: string, status: string, media: string): ValidateFunction {
    const pointer = ['paths', template, method.toLowerCase(), 'responses', status, 'content', media, 'schema'].map(escapePointer).join('/');
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#/${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}

const contracts = new Map<string, Promise<Contract>>();

/** The contract the server at `base` serves (fetched once per server); none for a request outside the API. */
export async function contractOf(base: string, path = `${API_PREFIX}/`): Promise<Contract | undefined> {
  if (!path.startsWith(`${API_PREFIX}/`)) return undefined;
  let contract = contracts.get(base);
  if (!contract) {
    contract = fetch(`${base}/openapi.json`).then(async (response) => {
      if (!response.ok) throw new Error(`${base}/openapi.json answered ${response.status}`);
      return new Contract((await response.json()) as OpenApiDocument);
    });
    contracts.set(base, contract);
  }
  return contract;
}
