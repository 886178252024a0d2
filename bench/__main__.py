"""`make bench`: every benchmark, one after the other."""

from __future__ import annotations

from bench import capacity, cold_start, dynamodb_requests, sweeper, validator_corpus

if __name__ == "__main__":
    cold_start.main()
    print()
    dynamodb_requests.main()
    print()
    sweeper.main()
    print()
    validator_corpus.main()
    print()
    capacity.main([])
