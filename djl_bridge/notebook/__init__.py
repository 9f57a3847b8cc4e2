"""A d2l-java notebook as published: its cells, its magics, known failures and patches, its comparison."""
