// Command ferretdb-embedded runs FerretDB v1 with its SQLite backend as a plain
// local process, so the stack has a MongoDB-wire-protocol server without Docker,
// MongoDB binaries or PostgreSQL.
//
// It exists because the upstream cmd/ferretdb cannot be built from the module
// proxy (it requires a generated build/version/version.txt), while the
// embeddable package can.
//
// Usage:
//
//	ferretdb-embedded -listen-addr 127.0.0.1:27017 -data-dir /path/to/data [-log-level info]
//
// It runs in the foreground until SIGTERM or SIGINT, then closes the listener,
// all client connections and the SQLite databases before exiting 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on; the host must be a loopback IP")
	dataDir := flag.String("data-dir", "", "directory for the SQLite database files (created if missing); required")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-embedded: %s\n", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, logLevel string) error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level %q: %w", logLevel, err)
	}

	if err := checkLoopback(listenAddr); err != nil {
		return err
	}

	sqliteURL, err := sqliteURL(dataDir)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("ferretdb-embedded starting", "listen", listenAddr, "sqlite", sqliteURL)

	// Run returns once ctx is canceled and every connection and the backend are closed.
	if err := f.Run(ctx); err != nil {
		return err
	}

	logger.Info("ferretdb-embedded stopped")

	return nil
}

// checkLoopback refuses any listen address that would expose the server beyond this machine.
func checkLoopback(listenAddr string) error {
	host, _, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("invalid -listen-addr %q: %w", listenAddr, err)
	}

	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen-addr %q must use a loopback IP such as 127.0.0.1", listenAddr)
	}

	return nil
}

// sqliteURL creates the data directory and turns it into the "file:/abs/dir/" URI
// FerretDB expects (absolute, escaped, with a trailing slash).
func sqliteURL(dataDir string) (string, error) {
	if dataDir == "" {
		return "", errors.New("-data-dir is required")
	}

	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("invalid -data-dir %q: %w", dataDir, err)
	}

	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("cannot create -data-dir: %w", err)
	}

	path := filepath.ToSlash(abs)
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}

	return "file:" + (&url.URL{Path: path}).EscapedPath(), nil
}
