import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { runToCompletion, ZIP_OPTIONS } from '../exec.js';
import { httpHealth } from '../probe.js';
import {
  type HealthResult,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
  portFromEnv,
} from '../service.js';
import { JAVA_17, MAVEN } from '../prerequisites.js';

/** The Apicurio Registry release the stack runs, built from its Maven Central jars (`io.apicurio:apicurio-registry-app`). */
export const APICURIO_REGISTRY_VERSION = '2.4.2.Final';

import { CONFLUENT_COMPAT_PATH } from '../../connectors/kafka-connect/converters.js';

// The Quarkus release Apicurio 2.4.2.Final was built with (its parent POM's quarkus.version).
const QUARKUS_VERSION = '2.16.4.Final';
// Apicurio's POM wants org.everit.json.schema 1.14.2 from JitPack, which is unreachable; its author publishes the
// same code to Maven Central as com.github.erosb:everit-json-schema.
const EVERIT_JSON_SCHEMA_VERSION = '1.14.2';
// Maven Central lacks the deployment half of config-index 0.1.18.Final; 0.1.10.Final ships both halves and the
// same single runtime class.
const CONFIG_INDEX_VERSION = '0.1.10.Final';
const INSTALL_STAMP = `apicurio-registry-app-${APICURIO_REGISTRY_VERSION} quarkus-${QUARKUS_VERSION} everit-${EVERIT_JSON_SCHEMA_VERSION} config-index-${CONFIG_INDEX_VERSION}`;
const RUNNER_ARTIFACT = 'cdc-sync-schema-registry';
const GLOBAL_COMPATIBILITY = 'BACKWARD';

/**
 * A Confluent-Schema-Registry-compatible registry: Apicurio Registry with
 * in-memory (H2) storage and no authentication, serving Confluent's REST API
 * under {@link CONFLUENT_COMPAT_PATH}.
 *
 * Installing builds a runnable Quarkus application from the published
 * Apicurio jars with Maven into the cache directory. Every start begins empty,
 * with the global compatibility level set to BACKWARD as in Confluent's
 * registry. The port comes from `CDC_SYNC_SCHEMA_REGISTRY_PORT` (default 8081).
 */
export function createSchemaRegistryService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_SCHEMA_REGISTRY_PORT', 8081, env);
  const endpoint = `http://127.0.0.1:${port}${CONFLUENT_COMPAT_PATH}`;

  return {
    name: 'schema-registry',
    summary: `Apicurio Registry ${APICURIO_REGISTRY_VERSION} (Confluent API, in memory) on ${endpoint}`,
    ports: [port],
    endpoint,
    endpointEnv: 'SCHEMA_REGISTRY_URL',
    prerequisites: [
      // Quarkus 2.16 runs on Java 11 or 17; Debian 12's openjdk-17 is tested.
      JAVA_17,
      MAVEN,
    ],
    needs: [],
    startTimeoutSeconds: 90,

    async install(dirs: ServiceDirs, report: StackReporter): Promise<void> {
      const stampFile = join(dirs.cacheDir, 'installed.txt');
      if (existsSync(runnerJarPath(dirs)) && (await readText(stampFile)) === INSTALL_STAMP) return;

      report(
        `Building Apicurio Registry ${APICURIO_REGISTRY_VERSION} from Maven Central jars (first run downloads ~130 MB)…`,
      );
      await rm(stampFile, { force: true });
      const buildDir = join(dirs.cacheDir, 'build');
      // Starts from scratch so that jars of an older build never linger in target/lib.
      await rm(buildDir, { recursive: true, force: true });
      await mkdir(join(buildDir, 'src', 'main', 'resources'), { recursive: true });
      await writeFile(join(buildDir, 'pom.xml'), renderPom());
      await writeFile(join(buildDir, 'src', 'main', 'resources', 'application.properties'), BUILD_PROPERTIES);
      await runToCompletion('mvn', ['-q', '-B', '-f', join(buildDir, 'pom.xml'), 'package', '-DskipTests'], {
        cwd: buildDir,
        logFile: join(dirs.cacheDir, 'install.log'),
      });
      if (!existsSync(runnerJarPath(dirs))) {
        throw new Error(
          `Maven finished but ${runnerJarPath(dirs)} is missing; see ${join(dirs.cacheDir, 'install.log')}`,
        );
      }
      await writeFile(stampFile, INSTALL_STAMP);
      report(`Apicurio Registry ${APICURIO_REGISTRY_VERSION} installed in ${dirs.cacheDir}`);
    },

    async prepare(dirs: ServiceDirs): Promise<void> {
      // Rewritten every time so that a changed port takes effect on the next start.
      await writeFile(importZipPath(dirs), globalRulesZip(GLOBAL_COMPATIBILITY));
      await mkdir(join(dirs.runDir, 'config'), { recursive: true });
      await writeFile(join(dirs.runDir, 'config', 'application.properties'), renderRuntimeProperties(port, dirs));
    },

    command(dirs: ServiceDirs): ServiceCommand {
      return {
        command: 'java',
        args: [
          '-Xms64m',
          '-Xmx512m',
          '-Djava.awt.headless=true',
          // Also in the properties file; repeated here so that a missing file can never expose 0.0.0.0:8080.
          '-Dquarkus.http.host=127.0.0.1',
          `-Dquarkus.http.port=${port}`,
          '-jar',
          runnerJarPath(dirs),
        ],
        // Quarkus reads ./config/application.properties relative to the working directory.
        cwd: dirs.runDir,
      };
    },

    health(): Promise<HealthResult> {
      return httpHealth(`${endpoint}/subjects`);
    },
  };
}

function runnerJarPath(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'build', 'target', `${RUNNER_ARTIFACT}-${APICURIO_REGISTRY_VERSION}-runner.jar`);
}

function importZipPath(dirs: ServiceDirs): string {
  return join(dirs.runDir, 'global-rules.zip');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Properties the Quarkus build needs: Apicurio's app jar carries no Jandex index, so CDI must index it. */
const BUILD_PROPERTIES = `# Generated by cdc-sync.
quarkus.index-dependency.apicurio-app.group-id=io.apicurio
quarkus.index-dependency.apicurio-app.artifact-id=apicurio-registry-app
`;

function renderRuntimeProperties(port: number, dirs: ServiceDirs): string {
  return `# Generated by cdc-sync on every start; edits are overwritten.
quarkus.http.host=127.0.0.1
quarkus.http.port=${port}
quarkus.http.cors=false
quarkus.transaction-manager.object-store-directory=${join(dirs.dataDir, 'transaction-log')}

# In-memory H2, emptied on every start (Apicurio's default for this build).
quarkus.datasource.jdbc.url=jdbc:h2:mem:registry_db

registry.auth.enabled=false
# Confluent's DELETE /subjects/{subject} maps onto artifact deletion, which Apicurio disables by default.
registry.rest.artifact.deletion.enabled=true
# Confluent-style ids: the same schema text gets the same id under every subject.
registry.ccompat.legacy-id-mode.enabled=false

# The global BACKWARD rule is imported as stored data rather than set through registry.rules.global.compatibility:
# only a stored rule shows in GET /config, and PUT /config NONE then really switches checking off.
registry.import.url=file:${importZipPath(dirs)}
`;
}

function renderPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by cdc-sync; builds a runnable Apicurio Registry from its published jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.cdc-sync</groupId>
  <artifactId>${RUNNER_ARTIFACT}</artifactId>
  <version>${APICURIO_REGISTRY_VERSION}</version>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>io.apicurio</groupId>
        <artifactId>apicurio-common-app-components-config-index</artifactId>
        <version>${CONFIG_INDEX_VERSION}</version>
      </dependency>
      <dependency>
        <groupId>io.apicurio</groupId>
        <artifactId>apicurio-registry</artifactId>
        <version>${APICURIO_REGISTRY_VERSION}</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>io.apicurio</groupId>
      <artifactId>apicurio-registry-app</artifactId>
      <version>${APICURIO_REGISTRY_VERSION}</version>
      <exclusions>
        <exclusion>
          <groupId>com.github.everit-org.json-schema</groupId>
          <artifactId>org.everit.json.schema</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>com.github.erosb</groupId>
      <artifactId>everit-json-schema</artifactId>
      <version>${EVERIT_JSON_SCHEMA_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>io.quarkus</groupId>
        <artifactId>quarkus-maven-plugin</artifactId>
        <version>${QUARKUS_VERSION}</version>
        <executions>
          <execution>
            <goals>
              <goal>build</goal>
            </goals>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

/**
 * An Apicurio export archive holding one global rule, in the layout its importer reads
 * (`rules/<TYPE>.GlobalRule.json`).
 */
function globalRulesZip(compatibility: string): Buffer {
  const rule = JSON.stringify({ ruleType: 'COMPATIBILITY', configuration: compatibility });
  return Buffer.from(zipSync({ 'rules/COMPATIBILITY.GlobalRule.json': strToU8(rule) }, ZIP_OPTIONS));
}
