package cdcsync.stack;

import java.time.Clock;
import java.util.List;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * The local stack's MongoDB-wire server: mongo-java-server with its H2 (MVStore) backend in one file, made durable
 * per acknowledged write and presented as MongoDB 6.0 so that current drivers accept it.
 *
 * <p>Usage: {@code MongoWireServer <host> <port> <data-file>}. Logs one line when listening; stops cleanly (a final
 * commit) on SIGTERM.
 */
public final class MongoWireServer {

    private MongoWireServer() {}

    /**
     * MongoDB 6.0 (wire version 17). The library's own newest setting reports wire version 8, below what the
     * Node.js driver 7 accepts (9).
     */
    enum Mongo60 implements MongoVersion {
        INSTANCE;

        @Override
        public List<Integer> getVersionArray() {
            return List.of(6, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 17;
        }
    }

    /**
     * H2's MVStore commits in the background about once a second, so a write could be acknowledged and still be lost
     * if the process were killed. This backend commits the store after every command that changed it and before the
     * reply goes out (the reply is written only once {@code handleCommand} returns), so every acknowledged write is
     * in the file, and survives a SIGKILL of the server. It is not fsynced: an operating-system crash can lose the
     * newest writes, which a local development server accepts.
     *
     * <p>It also answers {@code hello}, which the library knows only as the legacy {@code isMaster}.
     */
    static final class DurableH2Backend extends H2Backend {
        DurableH2Backend(MVStore store, Clock clock) {
            super(store, clock);
        }

        // Called from the constructor for the databases already in the file, so it reads the store from the parent.
        @Override
        protected MongoDatabase openOrCreateDatabase(String name) {
            return new IndexedH2Database(name, getMvStore(), getCursorRegistry());
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            if (command.equals("hello")) {
                Document answer = super.handleCommand(channel, database, "isMaster", query);
                answer.remove("ismaster");
                answer.put("isWritablePrimary", Boolean.TRUE);
                return answer;
            }
            try {
                return super.handleCommand(channel, database, command, query);
            } finally {
                // Also after a failure: an unordered bulk write applies its other operations before it reports one.
                // Unconditional: commit() takes the store's lock, so it waits for a commit another connection's
                // thread has begun, which may not hold this command's changes, and then stores what is left.
                getMvStore().commit();
            }
        }
    }

    /** Databases whose unique indexes (`_id` among them) also serve filters with more fields than the index's. */
    static final class IndexedH2Database extends H2Database {
        IndexedH2Database(String name, MVStore store, CursorRegistry cursors) {
            super(name, store, cursors);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collection, String name, List<IndexKey> keys,
                                                        boolean sparse) {
            return new NarrowingIndex(super.openOrCreateUniqueIndex(collection, name, keys, sparse));
        }
    }

    /**
     * A unique index that also answers a filter holding its keys among others, such as the sinks' guarded updates
     * {@code {_id: …, "_meta.version": {$not: {$gte: …}}}}: it looks up the documents by the index's keys alone, and
     * the collection then checks the whole filter against them (top-level fields are a conjunction, so nothing
     * matching is missed). The library itself uses an index only when the filter has exactly its keys, and would scan
     * the whole collection for every such update.
     */
    static final class NarrowingIndex extends Index<Object> {
        private final Index<Object> index;

        NarrowingIndex(Index<Object> index) {
            super(index.getName(), index.getKeys(), false);
            this.index = index;
        }

        /** The filter's conditions on the index's keys, if it has one on each of them and others besides. */
        private Document narrowed(Document query) {
            if (query.keySet().size() <= getKeys().size()) {
                return null;
            }
            Document keysOnly = new Document();
            for (IndexKey key : getKeys()) {
                if (!query.containsKey(key.getKey())) {
                    return null;
                }
                keysOnly.put(key.getKey(), query.get(key.getKey()));
            }
            return index.canHandle(keysOnly) ? keysOnly : null;
        }

        @Override
        public boolean canHandle(Document query) {
            return index.canHandle(query) || narrowed(query) != null;
        }

        @Override
        public Iterable<Object> getPositions(Document query) {
            return index.canHandle(query) ? index.getPositions(query) : index.getPositions(narrowed(query));
        }

        @Override
        public Object getPosition(Document document) {
            return index.getPosition(document);
        }

        @Override
        public void checkAdd(Document document, MongoCollection<Object> collection) {
            index.checkAdd(document, collection);
        }

        @Override
        public void add(Document document, Object position, MongoCollection<Object> collection) {
            index.add(document, position, collection);
        }

        @Override
        public Object remove(Document document) {
            return index.remove(document);
        }

        @Override
        public long getCount() {
            return index.getCount();
        }

        @Override
        public long getDataSize() {
            return index.getDataSize();
        }

        @Override
        public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Object> collection) {
            index.checkUpdate(oldDocument, newDocument, collection);
        }

        @Override
        public void updateInPlace(Document oldDocument, Document newDocument, Object position,
                                  MongoCollection<Object> collection) {
            index.updateInPlace(oldDocument, newDocument, position, collection);
        }

        @Override
        public void drop() {
            index.drop();
        }

        @Override
        public boolean hasSameOptions(Index<?> other) {
            return index.hasSameOptions(other instanceof NarrowingIndex ? ((NarrowingIndex) other).index : other);
        }

        @Override
        public boolean isUnique() {
            return index.isUnique();
        }

        @Override
        public Document toIndexDescription() {
            return index.toIndexDescription();
        }
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("Usage: MongoWireServer <host> <port> <data-file>");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String file = args[2];

        // The background writer stays on only for housekeeping (compaction); durability comes from the commits above.
        MVStore store = new MVStore.Builder().fileName(file).open();
        DurableH2Backend backend = new DurableH2Backend(store, Clock.systemUTC());
        backend.version(Mongo60.INSTANCE);
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        // Closing the server closes the backend, which commits and closes the store.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shutdown"));
        System.out.println("MongoDB-wire server (mongo-java-server, H2 file " + file + ") listening on " + host + ":"
            + port + ", reporting MongoDB 6.0.0 (wire version 17)");
    }
}
