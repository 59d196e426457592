"""How Ozon numbers the sandbox's shared catalogue: item i is product PRODUCT_ID_BASE + i and SKU
SKU_BASE + i, on the Seller API (ozon.py) and the Performance API (ozon_performance.py) alike."""

PRODUCT_ID_BASE = 310_000_000
SKU_BASE = 1_740_000_000
