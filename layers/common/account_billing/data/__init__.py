"""DynamoDB data access. Only this package speaks DynamoDB; it raises domain errors."""
