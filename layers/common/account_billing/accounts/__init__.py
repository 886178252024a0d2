"""Accounts (DESIGN §4): the profile item (`records`), its DynamoDB access and the markers that make
User IDs unique (`store`), User ID rules (`user_ids`), countries, creation, the profile,
visibility, the public profile and deletion (`service`), what callers see (`views`, `models`),
and the last step of deleting an account (`erasure`)."""
