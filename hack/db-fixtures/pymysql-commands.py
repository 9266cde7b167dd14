"""PyMySQL: text-protocol queries (COM_QUERY), COM_INIT_DB, COM_PING, a result set spanning
reads, a multi-statement query and an error."""
import sys
import pymysql

port = int(sys.argv[1])
conn = pymysql.connect(host="127.0.0.1", port=port, user="periscope", password="periscope", database="shop",
                       client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
with conn.cursor() as cur:
    cur.execute("DROP TABLE IF EXISTS orders")
    cur.execute("CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(40) NOT NULL, total DECIMAL(8,2))")
    for i in range(3):
        cur.execute("INSERT INTO orders (customer, total) VALUES (%s, %s)", (f"c{i}", i * 10.5))
    conn.commit()
    cur.execute("SELECT id, total FROM orders WHERE customer IN (%s, %s) ORDER BY id", ("c0", "c1"))
    cur.fetchall()
    cur.execute("INSERT INTO orders (customer, total) SELECT CONCAT('bulk', seq), seq FROM seq_1_to_200")
    conn.commit()
    cur.execute("SELECT * FROM orders")
    cur.fetchall()
    try:
        cur.execute("SELECT * FROM missing_table WHERE id = 1")
    except pymysql.err.ProgrammingError:
        pass
    cur.execute("SELECT 1; SELECT 2")
    while cur.nextset():
        pass
conn.select_db("audit")
conn.ping(reconnect=False)
with conn.cursor() as cur:
    cur.execute("SELECT DATABASE()")
    cur.fetchall()
conn.close()
