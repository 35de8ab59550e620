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
