import { readFileSync } from 'node:fs';
import { addMediaTypePlugin } from '@hyperjump/browser';
import { BASIC, buildSchemaDocument } from '@hyperjump/json-schema/experimental';
import { setShouldValidateFormat, type Validator, validate } from '@hyperjump/json-schema/openapi-3-1';
import { parse } from 'yaml';
import type { Exchange } from '../../local/exchange-log.ts';

/**
 * openapi.yaml as the contract every answer the e2e suite sees is held to, with Hyperjump's OpenAPI 3.1
 * validator (the OpenAPI 3.1 schema dialect on JSON Schema 2020-12): the path and method must be documented,
 * the status documented for that operation, the media type one it lists, its required headers present and
 * valid, and a JSON body valid against its schema (the schemas close every object, so an undocumented field
 * fails too).
 */
const DOCUMENT_URL = new URL('../../openapi.yaml', import.meta.url);
const DIALECT = 'https://spec.openapis.org/oas/3.1/schema-base';

addMediaTypePlugin('application/openapi+yaml', {
  parse: async (response) =>
    buildSchemaDocument(
      parse(await response.text()) as Parameters<typeof buildSchemaDocument>[0],
      response.url,
      DIALECT,
    ),
  fileMatcher: async (path) => path.endsWith('/openapi.yaml'),
});
setShouldValidateFormat(true);

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, { required?: boolean; schema?: unknown }>;
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { responses: Record<string, ResponseObject> };
}

const document = parse(readFileSync(DOCUMENT_URL, 'utf8')) as Document;

const templates = Object.keys(document.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
  static: !template.includes('{'),
}));

/**
 * What the gateway answers by itself outside the document's operations, as its components describe them: an
 * unknown path (404 route_not_found), another method on a known path (the key is checked first, then 405, or
 * 415 for a foreign media type), a body over the gateway's 10 MB, a Host the local stack does not serve.
 */
const UNKNOWN_PATH: Record<string, string> = { 404: 'NotFound', 413: 'PayloadTooLarge', 421: 'Misdirected' };
const UNKNOWN_METHOD: Record<string, string> = {
  403: 'KeyRefused',
  405: 'MethodNotAllowed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  421: 'Misdirected',
};

/** A JSON Pointer as a URI fragment (RFC 6901 section 6): escaped, then percent-encoded. */
const pointer = (...tokens: string[]) =>
  `#/${tokens.map((token) => encodeURIComponent(token.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

/** The response object an exchange must satisfy, and where it sits in the document; else why there is none. */
function documentedResponse(exchange: Exchange): { location: string[]; response: ResponseObject } | string {
  const status = String(exchange.status);
  const method = exchange.method.toLowerCase();
  const matching = templates.filter((each) => each.pattern.test(exchange.path));
  // A static path wins over a template, as API Gateway routes (/v1/verifications/check is no {id}).
  const path = (matching.find((each) => each.static) ?? matching[0])?.template;
  const operation = path ? document.paths[path]?.[method] : undefined;
  let location: string[];
  if (path && operation) {
    if (!operation.responses[status])
      return `${status} is not documented for ${method.toUpperCase()} ${path}`;
    location = ['paths', path, method, 'responses', status];
  } else {
    const component = (path ? UNKNOWN_METHOD : UNKNOWN_PATH)[status];
    if (!component) {
      return path
        ? `${method.toUpperCase()} is not documented on ${path}, and ${status} is not a gateway answer`
        : `${exchange.path} is no documented path, and ${status} is not a gateway answer`;
    }
    location = ['components', 'responses', component];
  }
  let response = location.reduce<unknown>(
    (node, token) => (node as Record<string, unknown>)[token],
    document,
  ) as ResponseObject;
  while (response.$ref) {
    location = response.$ref.replace(/^#\//, '').split('/');
    response = location.reduce<unknown>(
      (node, token) => (node as Record<string, unknown>)[token],
      document,
    ) as ResponseObject;
  }
  return { location, response };
}

const validators = new Map<string, Promise<Validator>>();
const validatorAt = (location: string[]) => {
  const uri = `${DOCUMENT_URL.href}${pointer(...location)}`;
  let validator = validators.get(uri);
  if (!validator) {
    validator = validate(uri);
    validators.set(uri, validator);
  }
  return validator;
};

const schemaErrors = async (location: string[], value: unknown) => {
  const output = (await validatorAt(location))(value as never, BASIC);
  return output.valid
    ? []
    : (output.errors ?? []).map(
        (error) =>
          `${error.instanceLocation} fails ${error.absoluteKeywordLocation.replace(DOCUMENT_URL.href, '')}`,
      );
};

/**
 * Loads the document and compiles every response's validators: a few seconds of CPU, spent while a stack starts
 * rather than after a test, when it would slow the stack's own requests on a loaded machine.
 */
export async function warmUp(): Promise<void> {
  const locations: string[][] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const status of Object.keys(operation.responses)) {
        const found = documentedResponse({
          method,
          path,
          status: Number(status),
          headers: {},
          json: null,
          bytes: 0,
        });
        if (typeof found !== 'string') locations.push(found.location);
      }
    }
  }
  for (const name of new Set([...Object.values(UNKNOWN_PATH), ...Object.values(UNKNOWN_METHOD)])) {
    locations.push(['components', 'responses', name]);
  }
  for (const location of locations) {
    const response = location.reduce<unknown>(
      (node, token) => (node as Record<string, unknown>)[token],
      document,
    ) as ResponseObject;
    if (response.content?.['application/json'])
      await validatorAt([...location, 'content', 'application/json', 'schema']);
    for (const name of Object.keys(response.headers ?? {}))
      await validatorAt([...location, 'headers', name, 'schema']);
  }
}

/** Every way the exchange departs from openapi.yaml; empty when it keeps the contract. */
export async function contractViolations(exchange: Exchange): Promise<string[]> {
  const found = documentedResponse(exchange);
  if (typeof found === 'string') return [found];
  const { location, response } = found;
  const problems: string[] = [];
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = exchange.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`header ${name} is missing`);
      continue;
    }
    // Header values are strings on the wire: a documented integer is read as one.
    const typed = /^-?[0-9]+$/.test(value) ? Number(value) : value;
    const errors = await schemaErrors([...location, 'headers', name, 'schema'], typed);
    problems.push(...errors.map((error) => `header ${name}: ${error}`));
  }
  const mediaTypes = Object.keys(response.content ?? {});
  const mediaType = (exchange.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaTypes.length === 0) {
    if (exchange.bytes > 0) problems.push(`a body of ${exchange.bytes} bytes where none is documented`);
  } else if (!mediaTypes.includes(mediaType)) {
    problems.push(`content type "${mediaType}" is not one of ${mediaTypes.join(', ')}`);
  } else if (mediaType === 'application/json') {
    problems.push(
      ...(await schemaErrors([...location, 'content', mediaType, 'schema'], exchange.json)).map(
        (error) => `body ${error}`,
      ),
    );
  }
  return problems;
}

export const describeExchange = (exchange: Exchange) =>
  `${exchange.method} ${exchange.path} → ${exchange.status} ${JSON.stringify(exchange.json)}`;
