import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import cfnspec from '@aws-cdk/cfnspec';
import type { PropertyType, Resource as SpecResource, SpecDatabase } from '@aws-cdk/service-spec-types';

/**
 * Checks a CloudFormation template against the published resource specifications, offline: the
 * CloudFormation resource specification as `@aws-cdk/cfnspec` ships it (frozen at the last version
 * AWS published in that format) and `@aws-cdk/aws-service-spec` (the AWS CDK's current database,
 * built from the CloudFormation registry schemas), for what is newer. What CloudFormation itself
 * would refuse before creating anything, and what the framework's own checks let through:
 *
 * - every resource type exists in one of the two, and every property of a resource exists for its
 *   type; every required property is there; nested property types likewise (their properties
 *   exist, required ones present, a list where a list belongs, an object where an object does);
 * - every `Fn::GetAtt` names a resource of the template and an attribute its type has; every
 *   `Ref`, `Fn::Sub` variable, `DependsOn` and `Condition` names something the template declares;
 * - the resource-level keys and `DeletionPolicy` values are CloudFormation's, and a stack holds at
 *   most 500 resources.
 *
 * A value that is an intrinsic function (`Ref`, `Fn::*`) is not checked against the property's
 * type: only CloudFormation knows what it resolves to. Where both specifications know a type, a
 * property exists if either has it, and the newer decides what is required.
 */

export interface Template {
  Resources: Record<string, TemplateResource>;
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
  [section: string]: unknown;
}
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  [key: string]: unknown;
}

/** A property's type as this check needs it, from either specification. */
type Shape =
  | { kind: 'any' }
  | { kind: 'primitive' }
  | { kind: 'list' | 'map'; element: Shape }
  | { kind: 'object'; name: string; properties: Record<string, { required: boolean; shape: () => Shape }> };

interface TypeSpec {
  properties: Record<string, { required: boolean; shape: () => Shape }>;
  attributes: Set<string>;
}

export const MAX_RESOURCES = 500;
const SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Rules',
]);
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
  'Metadata',
]);
const DELETION_POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** The two specifications, loaded once (about a second). */
export interface Specifications {
  /** The type as each specification that knows it describes it: the newer first. */
  lookup(type: string): TypeSpec[];
}

let loaded: Specifications | undefined;
export function loadSpecifications(): Specifications {
  if (loaded) return loaded;
  const db = loadAwsServiceSpecSync();
  const legacy = cfnspec.specification();
  const cache = new Map<string, TypeSpec[]>();
  loaded = {
    lookup(type) {
      let specs = cache.get(type);
      if (!specs) {
        specs = [];
        const [resource] = db.lookup('resource', 'cloudFormationType', 'equals', type);
        if (resource) specs.push(fromServiceSpec(db, resource));
        const legacyType = legacy.ResourceTypes[type];
        if (legacyType) specs.push(fromCfnSpec(legacy, type, legacyType));
        cache.set(type, specs);
      }
      return specs;
    },
  };
  return loaded;
}

function fromServiceSpec(db: SpecDatabase, resource: SpecResource): TypeSpec {
  const shapeOf = (type: PropertyType): Shape => {
    switch (type.type) {
      case 'ref': {
        const definition = db.get('typeDefinition', type.reference.$ref);
        return { kind: 'object', name: definition.name, properties: propertiesOf(definition.properties) };
      }
      case 'tag':
        return {
          kind: 'object',
          name: 'Tag',
          properties: { Key: { required: true, shape: () => ({ kind: 'primitive' }) }, Value: { required: true, shape: () => ({ kind: 'primitive' }) } },
        };
      case 'array':
        return { kind: 'list', element: shapeOf(type.element) };
      case 'map':
        return { kind: 'map', element: shapeOf(type.element) };
      case 'json':
      case 'union':
        return { kind: 'any' };
      default:
        return { kind: 'primitive' };
    }
  };
  const propertiesOf = (properties: SpecResource['properties']) =>
    Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, { required: p.required === true, shape: () => shapeOf(p.type) }]));
  return { properties: propertiesOf(resource.properties), attributes: new Set(Object.keys(resource.attributes)) };
}

type LegacySpec = ReturnType<typeof cfnspec.specification>;
type LegacyProperty = { Required?: boolean; Type?: string; ItemType?: string; PrimitiveType?: string; PrimitiveItemType?: string };

function fromCfnSpec(spec: LegacySpec, type: string, resource: LegacySpec['ResourceTypes'][string]): TypeSpec {
  const named = (name: string): Shape => {
    const definition = spec.PropertyTypes[`${type}.${name}`] ?? spec.PropertyTypes[name];
    if (!definition || !('Properties' in definition) || !definition.Properties) return { kind: 'any' };
    return { kind: 'object', name, properties: propertiesOf(definition.Properties as Record<string, LegacyProperty>) };
  };
  const shapeOf = (p: LegacyProperty): Shape => {
    if (p.PrimitiveType === 'Json') return { kind: 'any' };
    if (p.PrimitiveType) return { kind: 'primitive' };
    if (p.Type === 'List' || p.Type === 'Map') {
      const element: Shape = p.ItemType ? named(p.ItemType) : p.PrimitiveItemType === 'Json' ? { kind: 'any' } : { kind: 'primitive' };
      return { kind: p.Type === 'List' ? 'list' : 'map', element };
    }
    return p.Type ? named(p.Type) : { kind: 'any' };
  };
  const propertiesOf = (properties: Record<string, LegacyProperty>) =>
    Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, { required: p.Required === true, shape: () => shapeOf(p) }]));
  return {
    properties: propertiesOf((resource.Properties ?? {}) as Record<string, LegacyProperty>),
    attributes: new Set(Object.keys(resource.Attributes ?? {})),
  };
}

/** An intrinsic function or a Ref: a value only CloudFormation can resolve. */
const isIntrinsic = (value: unknown): boolean => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition');
};
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !isIntrinsic(value);

/** Every problem of the template, one line each, empty when it validates. */
export function validateTemplate(template: Template, specs: Specifications = loadSpecifications()): string[] {
  const problems: string[] = [];
  for (const section of Object.keys(template)) if (!SECTIONS.has(section)) problems.push(`template: unknown section ${section}`);
  const resources = template.Resources ?? {};
  const count = Object.keys(resources).length;
  if (count > MAX_RESOURCES) problems.push(`template: ${count} resources, more than CloudFormation's ${MAX_RESOURCES} per stack`);

  for (const [id, resource] of Object.entries(resources)) {
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) problems.push(`${id}: unknown resource attribute ${key}`);
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'])
      if (resource[policy] !== undefined && !DELETION_POLICIES.has(resource[policy] as string)) problems.push(`${id}: ${policy} ${String(resource[policy])}`);
    for (const dependency of [resource.DependsOn ?? []].flat())
      if (!(dependency in resources)) problems.push(`${id}: DependsOn ${dependency}, which is not a resource of the template`);
    if (resource.Condition !== undefined && !(resource.Condition in (template.Conditions ?? {})))
      problems.push(`${id}: Condition ${resource.Condition} is not declared`);

    const typeSpecs = specs.lookup(resource.Type);
    if (typeSpecs.length === 0) {
      problems.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    const [newest] = typeSpecs as [TypeSpec, ...TypeSpec[]];
    const properties = resource.Properties ?? {};
    if (!isPlainObject(properties)) continue;
    for (const [name, property] of Object.entries(newest.properties))
      if (property.required && !(name in properties)) problems.push(`${id} (${resource.Type}): required property ${name} is missing`);
    for (const [name, value] of Object.entries(properties)) {
      const known = typeSpecs.find((spec) => name in spec.properties);
      if (!known) problems.push(`${id} (${resource.Type}): unknown property ${name}`);
      else checkValue(`${id}.${name}`, value, known.properties[name]!.shape(), problems);
    }
  }

  checkReferences(template, specs, problems);
  return problems;
}

/** A nested value against its property type. */
function checkValue(path: string, value: unknown, shape: Shape, problems: string[]): void {
  if (isIntrinsic(value) || shape.kind === 'any') return;
  switch (shape.kind) {
    case 'primitive':
      if (value !== null && typeof value === 'object') problems.push(`${path}: a ${Array.isArray(value) ? 'list' : 'object'} where a single value belongs`);
      return;
    case 'list':
      if (!Array.isArray(value)) problems.push(`${path}: not a list`);
      else for (const [i, item] of value.entries()) checkValue(`${path}[${i}]`, item, shape.element, problems);
      return;
    case 'map':
      if (!isPlainObject(value)) problems.push(`${path}: not a map`);
      else for (const [key, item] of Object.entries(value)) checkValue(`${path}.${key}`, item, shape.element, problems);
      return;
    case 'object': {
      if (!isPlainObject(value)) {
        problems.push(`${path}: not an object (${shape.name})`);
        return;
      }
      for (const [name, property] of Object.entries(shape.properties))
        if (property.required && !(name in value)) problems.push(`${path} (${shape.name}): required property ${name} is missing`);
      for (const [name, item] of Object.entries(value)) {
        const property = shape.properties[name];
        if (!property) problems.push(`${path} (${shape.name}): unknown property ${name}`);
        else checkValue(`${path}.${name}`, item, property.shape(), problems);
      }
    }
  }
}

/** Ref, Fn::GetAtt, Fn::Sub variables and Fn::If conditions, anywhere in the template. */
function checkReferences(template: Template, specs: Specifications, problems: string[]): void {
  const resources = template.Resources ?? {};
  const names = new Set([...Object.keys(resources), ...Object.keys(template.Parameters ?? {}), ...PSEUDO_PARAMETERS]);
  const getAtt = (where: string, id: string, attribute: string) => {
    const resource = resources[id];
    if (!resource) problems.push(`${where}: Fn::GetAtt of ${id}, which is not a resource of the template`);
    else if (!specs.lookup(resource.Type).some((spec) => spec.attributes.has(attribute)))
      problems.push(`${where}: Fn::GetAtt ${id}.${attribute}: ${resource.Type} has no attribute ${attribute}`);
  };
  const visit = (where: string, value: unknown, locals: ReadonlySet<string>): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(where, item, locals);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string' && !names.has(node.Ref)) problems.push(`${where}: Ref ${node.Ref}, which the template does not declare`);
    const att = node['Fn::GetAtt'];
    if (att !== undefined) {
      const [id, ...rest] = Array.isArray(att) ? (att as string[]) : String(att).split('.');
      if (typeof id === 'string' && rest.every((part) => typeof part === 'string')) getAtt(where, id, rest.join('.'));
    }
    const sub = node['Fn::Sub'];
    if (sub !== undefined) {
      const [text, variables] = Array.isArray(sub) ? (sub as [unknown, Record<string, unknown>?]) : [sub, undefined];
      const own = new Set([...locals, ...Object.keys(variables ?? {})]);
      if (typeof text === 'string')
        for (const [, variable] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [id, ...attribute] = variable!.split('.');
          if (attribute.length > 0) getAtt(where, id!, attribute.join('.'));
          else if (!names.has(id!) && !own.has(id!)) problems.push(`${where}: Fn::Sub variable \${${id}}, which the template does not declare`);
        }
      if (variables) visit(where, variables, locals);
    }
    const condition = node['Fn::If'];
    if (Array.isArray(condition) && typeof condition[0] === 'string' && !(condition[0] in (template.Conditions ?? {})))
      problems.push(`${where}: Fn::If on ${condition[0]}, which is not declared`);
    for (const [key, child] of Object.entries(node)) if (key !== 'Fn::Sub') visit(where, child, locals);
  };
  for (const section of ['Resources', 'Conditions', 'Outputs'] as const)
    for (const [id, value] of Object.entries((template[section] ?? {}) as Record<string, unknown>)) visit(`${section}.${id}`, value, new Set());
}
