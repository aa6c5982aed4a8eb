"""Writes the Pydantic v2 part of the schema corpus: model_json_schema() of models people write for structured
output (what `format=Model.model_json_schema()` sends in the ollama Python docs, and what instructor/LangChain
send). Deterministic: the same Pydantic version gives the same bytes. Tests read only the JSON files.

Usage: python3 tests/schemas/pydantic/generate.py   (written with pydantic 2.13; EmailStr needs the optional
email-validator package and is used only when it is installed, so the corpus does not depend on it.)
"""
from __future__ import annotations

import datetime
import enum
import json
import pathlib
import uuid
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, Field, conint, constr, confloat, conlist

OUT = pathlib.Path(__file__).resolve().parent


class Color(str, enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Priority(int, enum.Enum):
    low = 1
    medium = 2
    high = 3


class Person(BaseModel):
    name: str
    age: int


class Pet(BaseModel):
    name: str
    animal: str
    age: int
    color: Optional[str]
    favorite_toy: Optional[str] = None


class PetList(BaseModel):
    pets: list[Pet]


class Country(BaseModel):
    name: str
    capital: str
    languages: list[str]


class Address(BaseModel):
    street: str
    city: str
    zip_code: constr(pattern=r"^[0-9]{5}$")
    country: str = Field(min_length=2, max_length=2)


class Customer(BaseModel):
    name: str
    home: Address
    work: Optional[Address] = None


class Item(BaseModel):
    name: str = Field(max_length=40)
    price: confloat(ge=0)
    quantity: conint(ge=1, le=1000) = 1


class Order(BaseModel):
    id: uuid.UUID
    created: datetime.datetime
    items: conlist(Item, min_length=1, max_length=10)
    customer: Customer


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


class LinkedList(BaseModel):
    value: str
    next: Optional[LinkedList] = None


class Category(BaseModel):
    name: str
    subcategories: list[Category] = Field(default_factory=list, max_length=3)


class Paint(BaseModel):
    name: str
    color: Color


class Task(BaseModel):
    title: str
    priority: Priority
    done: bool = False
    due: Optional[datetime.date] = None


class Status(BaseModel):
    status: Literal["ok", "error"]
    code: Literal[200, 400, 500]


class Constrained(BaseModel):
    age: conint(ge=0, le=150)
    score: conint(gt=0, lt=10)
    sku: constr(pattern=r"^[A-Z]{3}-[0-9]{3}$")
    nickname: constr(min_length=2, max_length=12)
    temperature: confloat(ge=-50.0, le=60.0)


class Sentiment(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"]
    confidence: float = Field(ge=0, le=1, description="How sure the model is")
    keywords: list[str] = Field(max_length=10)


class Meeting(BaseModel):
    title: str
    start: datetime.datetime
    end: datetime.datetime
    attendees: list[str]
    location: Optional[str] = None


class TimeSlot(BaseModel):
    day: datetime.date
    start: datetime.time
    duration_minutes: conint(ge=15, le=480)


class Cat(BaseModel):
    kind: Literal["cat"]
    indoor: bool


class Dog(BaseModel):
    kind: Literal["dog"]
    breed: str


class Owner(BaseModel):
    pet: Annotated[Union[Cat, Dog], Field(discriminator="kind")]


class UnionValue(BaseModel):
    value: Union[int, str, None]


class Tags(BaseModel):
    tags: dict[str, int]


class Coordinates(BaseModel):
    point: tuple[float, float]
    label: str


class Extraction(BaseModel):
    people: list[Person]
    places: list[str]
    summary: str = Field(description="One sentence")


class Recipe(BaseModel):
    title: str
    servings: conint(ge=1, le=20)
    ingredients: list[Item]
    steps: list[str] = Field(min_length=1)
    vegetarian: bool


class WeatherReport(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"] = "celsius"
    temperature: float
    conditions: list[Literal["sunny", "cloudy", "rain", "snow", "wind"]]


class SqlQuery(BaseModel):
    query: str = Field(description="A single SELECT statement")
    tables: list[str]
    explanation: Optional[str] = None


class Ticket(BaseModel):
    id: uuid.UUID
    subject: constr(max_length=80)
    priority: Priority
    assignee: Optional[Person] = None
    labels: set[str] = set()


class Employee(BaseModel):
    name: str
    manager: Optional[Employee] = None
    reports: list[Employee] = []


class Document(BaseModel):
    title: str
    sections: list[Section]


class Section(BaseModel):
    heading: str
    paragraphs: list[str]
    subsections: list[Section] = []


class Review(BaseModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    pros: list[str]
    cons: list[str]
    would_recommend: bool


class Profile(BaseModel):
    user_id: Annotated[int, Field(gt=0)]
    handle: Annotated[str, Field(pattern=r"^@[a-z0-9_]{3,15}$")]
    bio: Optional[Annotated[str, Field(max_length=160)]] = None
    website: Optional[str] = None


class Classification(BaseModel):
    label: Color
    alternatives: list[Color] = Field(max_length=2)
    reasoning: str


class Measurement(BaseModel):
    value: float
    unit: Literal["m", "cm", "mm", "km"]
    at: datetime.datetime
    sensor: uuid.UUID


class Matrix(BaseModel):
    rows: list[list[int]]


MODELS = [
    Person, Pet, PetList, Country, Address, Customer, Item, Order, TreeNode, LinkedList, Category, Paint, Task,
    Status, Constrained, Sentiment, Meeting, TimeSlot, Owner, UnionValue, Tags, Coordinates, Extraction, Recipe,
    WeatherReport, SqlQuery, Ticket, Employee, Document, Review, Profile, Classification, Measurement, Matrix,
]

try:  # EmailStr only with the optional email-validator package
    from pydantic import EmailStr

    class Contact(BaseModel):
        name: str
        email: EmailStr

    MODELS.append(Contact)
except ImportError:
    pass


def kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def main() -> None:
    Document.model_rebuild()
    for path in OUT.glob("*.json"):
        path.unlink()
    for model in MODELS:
        schema = model.model_json_schema()
        (OUT / f"{kebab(model.__name__)}.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(MODELS)} schemas written")


if __name__ == "__main__":
    main()
