import type { Template } from 'aws-cdk-lib/assertions';

/** Small readers over a synthesized template, so the tests state expectations in the API's own terms. */

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
}

export const resources = (template: Template): Record<string, CfnResource> =>
  template.toJSON().Resources as Record<string, CfnResource>;

export const ofType = (template: Template, type: string): Array<[string, CfnResource]> =>
  Object.entries(resources(template)).filter(([, resource]) => resource.Type === type);

/** The logical id of the resource a construct path ends in (e.g. `VoiceOtp/SendFunction/Role`). */
export function logicalIdAt(template: Template, pathPrefix: string, type: string): string {
  const found = ofType(template, type).filter(([, resource]) =>
    String(resource.Metadata?.['aws:cdk:path'] ?? '').startsWith(pathPrefix),
  );
  if (found.length !== 1 || !found[0]) {
    throw new Error(`expected one ${type} under ${pathPrefix}, found ${found.length}`);
  }
  return found[0][0];
}

/** Full path of every API Gateway resource, by logical id ("/v1/verifications/{id}"). */
export function apiResourcePaths(template: Template): Map<string, string> {
  const all = new Map(ofType(template, 'AWS::ApiGateway::Resource'));
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const resource = all.get(id);
    if (!resource) throw new Error(`unknown API resource ${id}`);
    const props = resource.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = props.ParentId.Ref;
    const path = `${parent && all.has(parent) ? pathOf(parent) : ''}/${props.PathPart}`;
    paths.set(id, path);
    return path;
  };
  for (const id of all.keys()) pathOf(id);
  return paths;
}

/** Every logical id a value refers to (Ref, Fn::GetAtt, and ${Id} inside Fn::Sub). */
export function references(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) references(item, into);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) into.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) into.add(String(inner[0]));
      else references(inner, into);
    }
  }
  return into;
}

/** A cycle of logical ids if the template has one (CloudFormation refuses those at deploy time), else undefined. */
export function findDependencyCycle(template: Template): string[] | undefined {
  const all = resources(template);
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(all)) {
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    const targets = [...references(resource.Properties), ...dependsOn].filter((target) => target in all);
    edges.set(id, targets);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A property that names its own resource (`Name`, `RouteKey`, `StageName`...), not another one. */
const NAMING_PROPERTY = /(^|[a-z])(Name|Key)$/;
/** Properties that, though named like a name, name something else: an alarm's metric (a metric filter's). */
const NAMING_ELSEWHERE: Record<string, readonly string[]> = { 'AWS::CloudWatch::Alarm': ['MetricName'] };
/** Properties holding the id of the API a name belongs to: route keys and stage names are per API. */
const SCOPES = ['ApiId', 'RestApiId'];

/** Names found deeper than the top level: a metric filter names the metric it publishes. */
const NESTED_KEYS: Record<string, (properties: Record<string, unknown>) => unknown[]> = {
  'AWS::Logs::MetricFilter': (properties) =>
    ((properties.MetricTransformations as Array<{ MetricName?: unknown }> | undefined) ?? []).map(
      (transformation) => transformation.MetricName,
    ),
};

/** The string keys a resource can be named by in another's properties, with the API they belong to. */
function stringKeys(resource: CfnResource): Array<{ key: string; scope?: string }> {
  const properties = resource.Properties ?? {};
  const scope = SCOPES.map((name) => references(properties[name])).find((refs) => refs.size === 1);
  const apiId = scope && [...scope][0];
  const keys = [
    ...Object.entries(properties)
      .filter(([name]) => NAMING_PROPERTY.test(name) && !NAMING_ELSEWHERE[resource.Type]?.includes(name))
      .map(([, value]) => value),
    ...(NESTED_KEYS[resource.Type]?.(properties) ?? []),
  ].filter((value): value is string => typeof value === 'string');
  return keys.map((key) => (apiId ? { key, scope: apiId } : { key }));
}

/** Every literal string a resource's properties hold (values and map keys) apart from its own names. */
function namedStrings(resource: CfnResource): Set<string> {
  const found = new Set<string>();
  const elsewhere = NAMING_ELSEWHERE[resource.Type] ?? [];
  const collect = (value: unknown) => {
    if (typeof value === 'string') found.add(value);
    else if (Array.isArray(value)) for (const item of value) collect(item);
    else if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) {
        found.add(name);
        if (!NAMING_PROPERTY.test(name) || elsewhere.includes(name)) collect(inner);
      }
    }
  };
  collect(resource.Properties ?? {});
  return found;
}

/** Logical ids each resource waits for before CloudFormation creates it: Refs, GetAtts, Subs, DependsOn. */
export function creationOrder(template: Template): Map<string, Set<string>> {
  const all = resources(template);
  const direct = new Map(
    Object.entries(all).map(([id, resource]) => [
      id,
      [...references(resource.Properties), ...[resource.DependsOn ?? []].flat()].filter((t) => t in all),
    ]),
  );
  const closed = new Map<string, Set<string>>();
  const after = (id: string): Set<string> => {
    const known = closed.get(id);
    if (known) return known;
    const into = new Set<string>();
    closed.set(id, into);
    for (const target of direct.get(id) ?? []) {
      into.add(target);
      for (const further of after(target)) into.add(further);
    }
    return into;
  };
  for (const id of direct.keys()) after(id);
  return closed;
}

/**
 * Resources that name another by a string key (a route key, a stage or API name, a metric name) without
 * waiting for it: CloudFormation sees no dependency in a string, so it may create the one before the other
 * (the HTTP API stage whose RouteSettings name routes that do not exist yet is refused).
 */
export function missingStringKeyDependencies(template: Template): string[] {
  const all = resources(template);
  const order = creationOrder(template);
  const byKey = new Map<string, Array<{ id: string; scope?: string }>>();
  for (const [id, resource] of Object.entries(all)) {
    for (const { key, scope } of stringKeys(resource)) {
      byKey.set(key, [...(byKey.get(key) ?? []), { id, ...(scope && { scope }) }]);
    }
  }
  const missing: string[] = [];
  for (const [id, resource] of Object.entries(all)) {
    const refs = references(resource.Properties);
    for (const text of namedStrings(resource)) {
      // A name two resources share (a web ACL named like its API) may mean either: one of them must come first.
      const named = (byKey.get(text) ?? []).filter(
        (candidate) => candidate.id !== id && (!candidate.scope || refs.has(candidate.scope)),
      );
      if (named.length > 0 && !named.some((candidate) => order.get(id)?.has(candidate.id)))
        missing.push(
          `${id} names ${named.map((c) => c.id).join(' or ')} as "${text}" but does not depend on it`,
        );
    }
  }
  return missing;
}
