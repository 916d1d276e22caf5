# syntax=docker/dockerfile:1
#
# Kafka Connect for cdc-sync: Debezium's Connect image (distributed mode, SQL
# Server connector included) plus the Confluent Avro converter, so change events
# are written as Avro with their schemas in the Schema Registry.
#
# Debezium images stopped bundling the Confluent converter in 2.0, so it is added
# here as its own plugin folder on the plugin path ($KAFKA_CONNECT_PLUGINS_DIR,
# /kafka/connect). A separate folder gets its own plugin class loader, so the
# converter's Avro and Guava cannot clash with the jars of the connectors or of
# the Connect runtime. kafka-clients and connect-api (marked provided in the
# converter's pom), Jackson and SLF4J are deliberately not downloaded: classes a
# plugin folder lacks are loaded from the Connect runtime, which has them all.
#
# Built by docker-compose.yml (service `connect`, image cdc-sync/connect:local).
# Every jar is checked against the .sha1 file its repository publishes next to
# it, which catches truncated or corrupted downloads; to guard against a
# tampered repository as well, pin the checksums as build arguments instead.
#
# @see https://debezium.io/documentation/reference/stable/configuration/avro.html
# @see https://docs.confluent.io/platform/current/schema-registry/connect.html

ARG DEBEZIUM_VERSION=3.1
FROM quay.io/debezium/connect:${DEBEZIUM_VERSION}

# The converter line matches the Schema Registry in docker-compose.yml
# (cp-schema-registry 7.9.0). The third-party versions follow the Avro 1.11 and
# Guava 32 lines of Confluent's common-parent pom; check them against the
# converter's poms whenever CONFLUENT_VERSION changes.
ARG CONFLUENT_VERSION=7.9.0
ARG AVRO_VERSION=1.11.4
ARG GUAVA_VERSION=32.0.1-jre
ARG FAILUREACCESS_VERSION=1.0.1
ARG COMMONS_COMPRESS_VERSION=1.26.1
ARG SNAKEYAML_VERSION=2.0
ARG CONFLUENT_REPO=https://packages.confluent.io/maven
ARG CENTRAL_REPO=https://repo1.maven.org/maven2

# bash with pipefail, so a failed checksum download fails the build rather than
# feeding an empty line to sha1sum. The base image runs as `kafka`, which owns the
# plugin directory, so no root step is needed.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN set -eu; \
    plugin_dir="${KAFKA_CONNECT_PLUGINS_DIR:-/kafka/connect}/confluent-avro-converter"; \
    mkdir -p "$plugin_dir"; \
    fetch_jar() { \
        local repo="$1" group_path="$2" artifact="$3" version="$4"; \
        local jar="$artifact-$version.jar"; \
        local url="$repo/$group_path/$artifact/$version/$jar"; \
        curl -fsSL --retry 3 -o "$plugin_dir/$jar" "$url"; \
        echo "$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40)  $plugin_dir/$jar" | sha1sum -c -; \
    }; \
    for artifact in \
        kafka-connect-avro-converter \
        kafka-connect-avro-data \
        kafka-avro-serializer \
        kafka-schema-serializer \
        kafka-schema-converter \
        kafka-schema-registry-client \
        common-config \
        common-utils; \
    do \
        fetch_jar "$CONFLUENT_REPO" io/confluent "$artifact" "$CONFLUENT_VERSION"; \
    done; \
    fetch_jar "$CENTRAL_REPO" org/apache/avro avro "$AVRO_VERSION"; \
    fetch_jar "$CENTRAL_REPO" com/google/guava guava "$GUAVA_VERSION"; \
    fetch_jar "$CENTRAL_REPO" com/google/guava failureaccess "$FAILUREACCESS_VERSION"; \
    fetch_jar "$CENTRAL_REPO" org/apache/commons commons-compress "$COMMONS_COMPRESS_VERSION"; \
    fetch_jar "$CENTRAL_REPO" org/yaml snakeyaml "$SNAKEYAML_VERSION"; \
    ls -l "$plugin_dir"
