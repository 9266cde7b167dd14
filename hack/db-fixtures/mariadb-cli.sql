SELECT id, customer FROM orders WHERE total > 20.5 AND customer <> 'it\'s' LIMIT 5;
UPDATE orders SET total = total * 1.1 WHERE id IN (1, 2, 3);
PREPARE by_id FROM 'SELECT customer FROM orders WHERE id = ?';
SET @id = 2;
EXECUTE by_id USING @id;
DEALLOCATE PREPARE by_id;
USE audit;
SELECT * FROM shop.nothing_here;
