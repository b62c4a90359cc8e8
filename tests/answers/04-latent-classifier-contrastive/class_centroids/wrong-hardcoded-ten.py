# wrong: always ten classes, ignoring num_classes
def class_centroids(z: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """The mean of the rows of z for each label 0..num_classes-1; NaN rows for labels absent from y."""
    ### BEGIN SOLUTION
    return torch.stack([z[y == c].mean(dim=0) for c in range(10)])
    ### END SOLUTION
