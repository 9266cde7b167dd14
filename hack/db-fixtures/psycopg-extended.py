"""psycopg 3: server-side parameters (extended protocol), a statement prepared once and run
several times, a pipeline, COPY and an error."""
import sys
import psycopg

port = int(sys.argv[1])
with psycopg.connect(host="127.0.0.1", port=port, dbname="shop", user="periscope", password="periscope",
                     sslmode="disable", prepare_threshold=2) as conn:
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS orders")
        cur.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric)")
        conn.commit()
        for i in range(4):
            cur.execute("INSERT INTO orders (customer, total) VALUES (%s, %s)", (f"c{i}", i * 10))
        conn.commit()
        for i in range(3):
            cur.execute("SELECT id, total FROM orders WHERE customer = %s", (f"c{i}",))
            cur.fetchall()
        with conn.pipeline():
            for i in range(3):
                cur.execute("UPDATE orders SET total = total + %s WHERE id = %s", (1, i + 1))
        conn.commit()
        with cur.copy("COPY orders (customer, total) FROM STDIN") as copy:
            copy.write_row(("copied", 5))
        conn.commit()
        try:
            cur.execute("INSERT INTO orders (id, customer) VALUES (%s, %s)", (1, "duplicate"))
        except psycopg.errors.UniqueViolation:
            conn.rollback()
        cur.execute("SELECT count(*) FROM orders")
        cur.fetchone()
