"""Plain NumPy / Python (and mpmath) references and the shared hostile-input generator.

Nothing here imports blockops: the references must stay independent of the code under test.
"""
