import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource, SpecDatabase } from '@aws-cdk/service-spec-types';
import type { CfnResource } from './template.ts';

/**
 * Reads a synthesized template the way CloudFormation will, against `@aws-cdk/aws-service-spec`: the database
 * CDK itself is generated from (CloudFormation's current resource schemas, their attributes, and each
 * service's CloudWatch metrics with their dimension sets). npm's cfn-lint bundles a 2019-era spec and cannot
 * read this template (FACTS.md, third round).
 */

export interface CfnTemplate {
  Resources: Record<string, CfnResource & { Condition?: string }>;
  Parameters?: Record<string, unknown>;
}

let database: SpecDatabase | undefined;
/** About a second to load; once per test file. */
export const specDatabase = () => {
  database ??= loadAwsServiceSpecSync();
  return database;
};

export function specOf(db: SpecDatabase, type: string): Resource | undefined {
  const found = db.lookup('resource', 'cloudFormationType', 'equals', type);
  return found.length === 1 ? found[0] : undefined;
}

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'Condition',
  'CreationPolicy',
  'UpdatePolicy',
]);
const POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);

/** An intrinsic function or a Ref: its value is known only at deploy time. */
export function intrinsic(value: unknown): [string, unknown] | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || !key || !(key === 'Ref' || key.startsWith('Fn::'))) return undefined;
  return [key, (value as Record<string, unknown>)[key]];
}

/**
 * Every problem CloudFormation's schemas find in the template: unknown resource types, unknown or missing
 * required properties, values of the wrong type (recursively, through each property type's definition), and
 * Refs and Fn::GetAtts to resources or attributes that do not exist. Values computed at deploy time
 * (intrinsic functions) are accepted where a value is expected.
 */
export function schemaProblems(db: SpecDatabase, template: CfnTemplate): string[] {
  const problems: string[] = [];
  const resources = template.Resources;
  const checkIntrinsic = (at: string, name: string, argument: unknown) => {
    if (name === 'Ref') {
      const target = String(argument);
      if (!target.startsWith('AWS::') && !(target in resources) && !(target in (template.Parameters ?? {})))
        problems.push(`${at}: Ref to unknown ${target}`);
    } else if (name === 'Fn::GetAtt') {
      const [target, attribute] = Array.isArray(argument) ? argument : String(argument).split('.', 2);
      const resource = resources[String(target)];
      const spec = resource && specOf(db, resource.Type);
      if (!resource) problems.push(`${at}: Fn::GetAtt of unknown ${String(target)}`);
      else if (spec && !(String(attribute) in spec.attributes))
        problems.push(`${at}: ${resource.Type} has no attribute ${String(attribute)}`);
    }
    // Arguments may hold Refs and GetAtts of their own.
    walkIntrinsics(argument, at, checkIntrinsic);
  };

  const check = (type: PropertyType, value: unknown, at: string): string[] => {
    const call = intrinsic(value);
    if (call) {
      checkIntrinsic(at, call[0], call[1]);
      return [];
    }
    switch (type.type) {
      case 'string':
        if (typeof value !== 'string') return [`${at}: expected a string, got ${JSON.stringify(value)}`];
        if (type.allowedValues && !type.allowedValues.includes(value))
          return [`${at}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`];
        return [];
      case 'date-time':
        return typeof value === 'string' ? [] : [`${at}: expected a date-time string`];
      case 'number':
      case 'integer': {
        const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof number !== 'number' || Number.isNaN(number))
          return [`${at}: expected a number, got ${JSON.stringify(value)}`];
        if (type.type === 'integer' && !Number.isInteger(number)) return [`${at}: expected an integer`];
        return [];
      }
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false'
          ? []
          : [`${at}: expected a boolean, got ${JSON.stringify(value)}`];
      case 'json':
        return value !== null && (typeof value === 'object' || typeof value === 'string')
          ? []
          : [`${at}: expected JSON`];
      case 'null':
        return value === null ? [] : [`${at}: expected null`];
      case 'tag':
        return checkObject(
          {
            Key: { type: { type: 'string' }, required: true },
            Value: { type: { type: 'string' }, required: true },
          },
          value,
          at,
        );
      case 'ref': {
        const definition = db.get('typeDefinition', type.reference.$ref);
        return checkObject(definition.properties, value, at);
      }
      case 'array':
        if (!Array.isArray(value)) return [`${at}: expected a list`];
        return value.flatMap((item, index) => check(type.element, item, `${at}[${index}]`));
      case 'map':
        if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected a map`];
        return Object.entries(value).flatMap(([key, item]) => check(type.element, item, `${at}.${key}`));
      case 'union': {
        const tries = type.types.map((member) => check(member, value, at));
        return tries.some((found) => found.length === 0) ? [] : (tries[0] ?? []);
      }
    }
  };

  const checkObject = (properties: Record<string, Property>, value: unknown, at: string): string[] => {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return [`${at}: expected an object, got ${JSON.stringify(value)}`];
    const found: string[] = [];
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && !(name in value)) found.push(`${at}: missing required property ${name}`);
    }
    for (const [name, inner] of Object.entries(value)) {
      const property = properties[name];
      if (!property) {
        found.push(`${at}: unknown property ${name}`);
        continue;
      }
      // The current type, or a type it had before (CloudFormation still accepts those).
      const tries = [property.type, ...(property.previousTypes ?? [])].map((type) =>
        check(type, inner, `${at}.${name}`),
      );
      if (!tries.some((each) => each.length === 0)) found.push(...(tries[0] ?? []));
    }
    return found;
  };

  for (const [id, resource] of Object.entries(resources)) {
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) problems.push(`${id}: unknown resource attribute ${key}`);
    }
    for (const policy of [resource.DeletionPolicy, resource.UpdateReplacePolicy]) {
      if (policy !== undefined && !POLICIES.has(policy)) problems.push(`${id}: unknown policy ${policy}`);
    }
    for (const target of resource.DependsOn === undefined ? [] : [resource.DependsOn].flat()) {
      if (!(target in resources)) problems.push(`${id}: DependsOn unknown ${target}`);
    }
    // Custom resources have no schema; CDK's own analytics resource (the CLI adds it) is one CloudFormation knows.
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CDK::Metadata') continue;
    const spec = specOf(db, resource.Type);
    if (!spec) {
      problems.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    problems.push(...checkObject(spec.properties, resource.Properties ?? {}, `${id} (${resource.Type})`));
  }
  return problems;
}

/** Calls `visit` for every intrinsic function inside `value`, with where it was found. */
function walkIntrinsics(
  value: unknown,
  at: string,
  visit: (at: string, name: string, argument: unknown) => void,
) {
  if (Array.isArray(value)) {
    for (const item of value) walkIntrinsics(item, at, visit);
    return;
  }
  const call = intrinsic(value);
  if (call) {
    visit(at, call[0], call[1]);
    return;
  }
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) walkIntrinsics(inner, at, visit);
  }
}

/**
 * The properties that fix a resource's physical name: its name properties (`Name`, `...Name`) that identify it
 * (its primary identifier) or cannot change without replacing it. Set on a resource kept at deletion, the
 * next deploy under the same stack name creates one with the same name, and fails.
 */
export function physicalNameProperties(spec: Resource): string[] {
  return Object.entries(spec.properties)
    .filter(
      ([name, property]) =>
        /(^|[a-z])Name$/.test(name) &&
        ((spec.primaryIdentifier ?? []).includes(name) || property.causesReplacement === 'yes'),
    )
    .map(([name]) => name);
}

/** Kept when the stack is deleted (or replaced): what outlives a teardown. */
export const keptAtDeletion = (resource: CfnResource) =>
  resource.DeletionPolicy !== undefined && resource.DeletionPolicy !== 'Delete';

export interface AlarmMetric {
  alarm: string;
  namespace: string;
  name: string;
  dimensions: Array<{ Name: string; Value: unknown }>;
}

/** Every metric an alarm reads: its own, or each MetricStat of its metric math. */
export function alarmMetrics(template: CfnTemplate): AlarmMetric[] {
  type Stat = { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .flatMap(([alarm, resource]) => {
      const properties = resource.Properties as Partial<Stat> & {
        Metrics?: Array<{ MetricStat?: { Metric: Stat } }>;
      };
      const stats: Stat[] = properties.MetricName
        ? [properties as Stat]
        : (properties.Metrics ?? []).flatMap((query) => (query.MetricStat ? [query.MetricStat.Metric] : []));
      return stats.map((stat) => ({
        alarm,
        namespace: stat.Namespace,
        name: stat.MetricName,
        dimensions: stat.Dimensions ?? [],
      }));
    });
}

/**
 * What is wrong with an alarm's AWS metric, by the service's own metric catalogue: the metric must exist in
 * its namespace, its dimensions must be one of the sets the service publishes it under (with the fixed value,
 * where the set has one, such as DynamoDB's Operation), and each dimension must name a resource of this
 * template that publishes the metric, by Ref or GetAtt, or by its literal name (a REST API's ApiName).
 */
export function awsMetricProblems(db: SpecDatabase, template: CfnTemplate, metric: AlarmMetric): string[] {
  const at = `${metric.alarm}: ${metric.namespace} ${metric.name}`;
  const known = db.all('metric').filter((m) => m.namespace === metric.namespace && m.name === metric.name);
  if (known.length === 0) return [`${at}: no such metric`];
  const names = metric.dimensions.map((d) => d.Name).sort();
  const sets = known.flatMap((m) => db.follow('usesDimensionSet', m).map((link) => link.entity.dimensions));
  const matching = sets.find(
    (set) =>
      JSON.stringify(set.map((d) => d.name).sort()) === JSON.stringify(names) &&
      set.every(
        (d) =>
          d.value === undefined || metric.dimensions.find((mine) => mine.Name === d.name)?.Value === d.value,
      ),
  );
  if (!matching) return [`${at}: published under no dimension set ${names.join(', ') || '(none)'}`];
  // The resource types that publish this metric, and this template's resources of those types.
  const publishers = new Set(
    db
      .all('resource')
      .filter((resource) =>
        db.follow('resourceHasMetric', resource).some((link) => known.includes(link.entity)),
      )
      .map((resource) => resource.cloudFormationType),
  );
  const ours = Object.entries(template.Resources).filter(([, resource]) => publishers.has(resource.Type));
  const problems: string[] = [];
  for (const dimension of metric.dimensions) {
    if (matching.find((d) => d.name === dimension.Name)?.value !== undefined) continue;
    const call = intrinsic(dimension.Value);
    const target = call ? String(Array.isArray(call[1]) ? call[1][0] : call[1]) : undefined;
    const found = call
      ? ours.some(([id]) => id === target)
      : ours.some(([, resource]) =>
          Object.entries(resource.Properties ?? {}).some(
            ([name, value]) => /(^|[a-z])Name$/.test(name) && value === dimension.Value,
          ),
        );
    if (!found)
      problems.push(
        `${at}: dimension ${dimension.Name}=${JSON.stringify(dimension.Value)} names no ${[...publishers].join(' or ')} of this template`,
      );
  }
  return problems;
}
