package org.pairwise.server.store;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

/**
 * The store contract suite's base: a subclass, annotated {@code @ParameterizedClass @EnumSource(StoreKind.class)},
 * runs every test on SQLite and on PostgreSQL, each test on an empty location of its own ({@link #db}, ready before
 * the subclass's own {@code @BeforeEach}, dropped after its {@code @AfterEach}).
 */
abstract class StoreContract {
    @Parameter
    StoreKind kind;
    @TempDir
    Path dir;
    StoreKind.StoreUnderTest db;

    @BeforeEach
    void freshStore() throws Exception {
        db = kind.fresh(dir);
    }

    @AfterEach
    void dropStore() throws Exception {
        db.close();
    }
}
