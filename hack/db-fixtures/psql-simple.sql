DROP TABLE IF EXISTS items;
CREATE TABLE items (id integer PRIMARY KEY, name text, price numeric(8,2), tags text[]);
INSERT INTO items VALUES (1, 'apple', 1.25, '{fruit}'), (2, 'pear', 2.50, '{fruit}');
SELECT id, name FROM items WHERE id IN (1, 2, 3) AND name <> 'it''s' ORDER BY id;
UPDATE items SET price = price * 1.1 WHERE name = 'pear' /* a comment with 'quotes' */;
SELECT * FROM missing_table;
COPY items (id, name, price) FROM STDIN;
3	plum	0.75
4	fig	3.00
\.
COPY items TO STDOUT;
BEGIN\; SELECT count(*) FROM items\; COMMIT;
SELECT i.name, o.n FROM items i JOIN (SELECT 1 AS n) o ON true LIMIT 1;
DELETE FROM items WHERE price > 2;
