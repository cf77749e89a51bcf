/**
 * The package's public API is the client package's, re-exported: a signed KMS client, the
 * partition-key provisioner, the producer/consumer partition keys with record encryption, the file
 * format and request signing. An application that only calls the KMS installs
 * `@alibaba-kms-compatible/client` alone (none of the server's dependencies); everything else in
 * this package is the server and internal.
 *
 * @packageDocumentation
 */
export * from '@alibaba-kms-compatible/client';
