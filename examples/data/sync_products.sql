-- The demo's catalogue for the sync examples (examples/c/sync.c, `gaia sync`): products
-- with a DECIMAL price, an ENUM status, a JSON column, tags in a child table, a soft-delete
-- flag, and versions (updated_at) that change on every write.
DROP TABLE IF EXISTS demo_product_tag, demo_product;
CREATE TABLE demo_product (
  id BIGINT PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(12,2) NOT NULL,
  status ENUM('draft','live','archived') NOT NULL DEFAULT 'live',
  attrs JSON,
  deleted TINYINT NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY (updated_at, id)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE demo_product_tag (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT NOT NULL,
  tag VARCHAR(40) NOT NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY (product_id), KEY (updated_at, product_id)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO demo_product (id, title, price, status, attrs)
  SELECT seq, CONCAT(ELT(1 + seq % 5, 'Linen shirt', 'Teapot 茶壺', 'Trail shoe', 'Café grinder', 'Desk lamp 💡'), ' #', seq),
         ROUND(5 + (seq * 7919 % 20000) / 100, 2), ELT(1 + seq % 3, 'draft', 'live', 'archived'),
         JSON_OBJECT('color', ELT(1 + seq % 4, 'red', 'green', 'blue', 'black'), 'weight_g', 100 + seq % 900)
  FROM seq_1_to_5000;
INSERT INTO demo_product_tag (product_id, tag)
  SELECT p.seq, CONCAT('tag', (p.seq + t.seq) % 40) FROM seq_1_to_5000 p JOIN seq_1_to_3 t ON t.seq <= 1 + p.seq % 3;
-- Let the rows age past the examples' lag_ms (200 ms): the first incremental pass after the
-- rebuild then reads only the later writes (younger rows are read again, harmlessly).
DO SLEEP(0.4);
