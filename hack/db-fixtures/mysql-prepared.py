"""Server-side prepared statements, which PyMySQL does not use: COM_STMT_PREPARE, a statement
executed three times with COM_STMT_EXECUTE, COM_STMT_CLOSE, and a prepare that fails, spoken
over a PyMySQL connection's packet layer."""
import struct
import sys
import pymysql
from pymysql.constants import COMMAND

port = int(sys.argv[1])
conn = pymysql.connect(host="127.0.0.1", port=port, user="periscope", password="periscope", database="shop")


def read_until_eof(count):
    """Reads `count` definition packets and the EOF after them (no CLIENT_DEPRECATE_EOF)."""
    for _ in range(count):
        conn._read_packet()
    if count:
        conn._read_packet()


def prepare(sql):
    conn._execute_command(COMMAND.COM_STMT_PREPARE, sql)
    packet = conn._read_packet()
    data = packet.get_all_data()
    statement, columns, params = struct.unpack("<IHH", data[1:9])
    read_until_eof(params)
    read_until_eof(columns)
    return statement, columns


def execute(statement, columns, value):
    # flags 0, one iteration, a null bitmap of one byte, new parameters bound: LONGLONG.
    payload = struct.pack("<IBI", statement, 0, 1) + b"\x00" + b"\x01" + struct.pack("<H", 8) + struct.pack("<q", value)
    conn._execute_command(COMMAND.COM_STMT_EXECUTE, payload)
    first = conn._read_packet()
    if first.is_ok_packet():
        return
    read_until_eof(columns)
    while not conn._read_packet().is_eof_packet():
        pass


statement, columns = prepare("SELECT id, customer FROM orders WHERE id = ?")
for value in (1, 2, 3):
    execute(statement, columns, value)
conn._execute_command(COMMAND.COM_STMT_CLOSE, struct.pack("<I", statement))
update, _ = prepare("UPDATE orders SET total = total + 1 WHERE id = ?")
execute(update, 0, 2)
try:
    prepare("SELECT * FROM no_such_table WHERE id = ?")
except pymysql.err.MySQLError:
    pass
conn.close()
